"""The optional C speedups (git_snapshot.store._ctree and _readmany, built by setup.py with
optional=True): built where a C compiler and Python's headers are (and OpenSSL's, for
_readmany), skipped where not with the install still succeeding, never stale next to their
source, and the same snapshots either way.

CI sets GIT_SNAPSHOT_REQUIRE_C=1 (.ci/run): there a twin chosen because the build silently
failed is a failure, so that the suite and the benchmarks never run the twin by accident.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import head

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "git_snapshot" / "store" / "_ctree.c"
MODULE = "git_snapshot.store._ctree"
MODULES = ("_ctree", "_readmany")  # in git_snapshot.store, each from its .c beside it
REQUIRE = "GIT_SNAPSHOT_REQUIRE_C"
PURE = "GIT_SNAPSHOT_PURE_PYTHON"


def can_build() -> bool:
    """A C compiler (the one setuptools calls) and Python's headers are there."""
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    return shutil.which(cc) is not None and headers.exists()


def required() -> bool:
    return os.environ.get(REQUIRE) == "1"


def test_the_c_speedups_are_in_use_where_ci_requires_them() -> None:
    if not required():
        pytest.skip(f"{REQUIRE} is not set (.ci/run sets it)")
    assert PURE not in os.environ, f"{REQUIRE}=1 with {PURE} set: which one?"
    assert can_build(), "no C compiler or no Python.h: .ci/run installs build-essential"
    from git_snapshot.store import ctree

    assert ctree.NATIVE, f"{MODULE} did not import: did pip print 'building extension failed'?"
    from git_snapshot.store import readmany

    assert readmany.NATIVE, "_readmany did not import: no OpenSSL headers (.ci/run: libssl-dev)?"


@pytest.mark.parametrize("name", MODULES)
def test_the_built_module_is_built_from_the_source_beside_it(name: str) -> None:
    """An editable install builds the module once, next to its source (PYTHONPATH=src finds
    it too): after a change to its .c, a rebase or a pull, it is stale until rebuilt."""
    module = f"git_snapshot.store.{name}"
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        if required():
            pytest.fail(f"{module} was not built")
        pytest.skip(f"{module} was not built (no C compiler when it was installed?)")
    source = SOURCE.parent / f"{name}.c"
    if Path(spec.origin).parent != source.parent:
        pytest.skip(f"{module} is an installed copy ({spec.origin}), not this checkout's")
    built = importlib.import_module(module)
    want = hashlib.sha256(source.read_bytes()).hexdigest()
    assert want == built.SOURCE_SHA256, (
        f"{spec.origin} was built from another {name}.c: rebuild it "
        f"({sys.executable} -m pip install -e .)"
    )


def speedups_line(out: str) -> str:
    (line,) = [ln for ln in out.splitlines() if ln.startswith("C speedups: ")]
    return line.removeprefix("C speedups: ")


def test_doctor_says_whether_the_c_speedups_run(repo: Path) -> None:
    from git_snapshot.store import ctree
    from git_snapshot.store import readmany

    got = speedups_line(gs(repo, "doctor", rc=1).out)
    if ctree.NATIVE and readmany.NATIVE:
        assert got.startswith("in use (") and got.endswith(".so)"), got
        assert "_ctree" in got and "_readmany" in got
    else:
        assert "not built" in got or "not loaded" in got or "built from another" in got, got
        assert "apt install build-essential python3-dev" in got  # how to get them
    got = speedups_line(gs(repo, "doctor", rc=1, **{PURE: "1"}).out)
    assert got == (
        f"off ({PURE}=1): the walk's changed folders run in pure Python, a first walk reads "
        "its files and a restore's writers write theirs in Python (the same snapshots, slower)"
    )


@pytest.mark.parametrize(
    ("prefix", "want"),
    [
        ("/home/u/.local/share/pipx/venvs/git-snapshot", "pipx reinstall git-snapshot"),
        ("/home/u/.local/pipx/venvs/git-snapshot", "pipx reinstall git-snapshot"),
        (
            "/home/u/.cache/pre-commit/repoab12/py_env-python3.11",
            "pre-commit clean, then pre-commit install-hooks",
        ),
        (
            "/home/u/.git-snapshot",
            "/home/u/.git-snapshot/bin/python -m pip install --force-reinstall --no-deps "
            "FOLDER-OR-WHEEL, as installed",
        ),
    ],
)
def test_doctor_names_the_command_that_builds_them(prefix: str, want: str, tmp_path: Path) -> None:
    """Where git-snapshot was installed decides how to install it again: pipx, pre-commit's
    environment, a venv of its own (from the clone's folder or a wheel), or a checkout."""
    from git_snapshot.commands.doctor import reinstall_command

    site = str(tmp_path / "site-packages")  # no setup.py above an installed package
    assert reinstall_command(prefix, f"{prefix}/bin/python", site) == want
    assert reinstall_command(prefix, "py", str(ROOT)) == f"py -m pip install -e {ROOT}"


# -------------------------------------------------------------------------- real installs

PACKAGE_FILES = ("pyproject.toml", "setup.py", "README.md")
PACKAGE_DIRS = ("src", "man")  # man: a data file of the wheel


def package_copy(dest: Path) -> Path:
    """What pip install gets from a clone: this checkout's package files, no build output."""
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "*.so")
    for name in PACKAGE_DIRS:
        shutil.copytree(ROOT / name, dest / name, ignore=junk)
    for name in PACKAGE_FILES:
        shutil.copy2(ROOT / name, dest / name)
    return dest


def pip_install(pkg: Path, target: Path, cc: str | None) -> subprocess.CompletedProcess[str]:
    """`pip install .` of *pkg* into *target*, with *cc* as the C compiler (None: the usual
    one); no dependencies: this venv has them."""
    env = {k: v for k, v in os.environ.items() if k not in ("CC", "LDSHARED")}
    if cc is not None:
        env["CC"] = cc
    pip = [sys.executable, "-m", "pip", "install", "-v", "--no-deps", "--no-compile"]
    return subprocess.run(
        [*pip, "--target", str(target), str(pkg)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def varied_tree(r: Path) -> None:
    """Files of every kind the walk treats apart, in a committed repository."""
    (r / ".gitignore").write_text("build/\n*.log\n")
    (r / "src" / "deep" / "er").mkdir(parents=True)
    for i in range(40):
        (r / "src" / f"m{i:02}.py").write_bytes(b"x = %d\n" % i * (i + 1))
    (r / "src" / "deep" / "er" / "empty").write_bytes(b"")
    (r / "src" / "run.sh").write_text("#!/bin/sh\n")
    (r / "src" / "run.sh").chmod(0o755)
    (r / "src" / "link").symlink_to("m01.py")
    (r / "src" / "dangling").symlink_to("nowhere")
    (r / "src" / "caf\xe9 \u2603.txt").write_text("unicode name\n")
    git(r, "add", "-A")
    git(r, "commit", "-q", "-m", "tree")
    (r / "build").mkdir()
    (r / "build" / "out.o").write_bytes(bytes(range(256)) * 64)
    (r / "debug.log").write_text("ignored\n")
    (r / "notes.txt").write_text("untracked\n")
    (r / "src" / "m03.py").write_text("edited, unstaged\n")
    (r / "src" / "emptydir").mkdir()


HOOK_PROBE = """
import os, sys
sys.argv = ["git-snapshot", *sys.argv[1:]]
exit_now = os._exit
def report(status):
    import json
    from git_snapshot.store import ctree, readmany
    sys.stdout.write(json.dumps({"status": status, "native": ctree.NATIVE, "file": ctree.__file__,
                                 "reads": readmany.NATIVE}))
    sys.stdout.flush()
os._exit = lambda status: (report(status), exit_now(status))  # hookmain.leave's fast exit
from git_snapshot.hookmain import main
report(main())
"""


def run_hook(site: Path, r: Path, store: Path, pure: bool) -> dict[str, object]:
    """The installed copy's post-checkout hook on *r*, into a store of its own."""
    env = {**os.environ, "PYTHONPATH": str(site), "GIT_SNAPSHOT_STORE": str(store)}
    env.pop(PURE, None)
    if pure:
        env[PURE] = "1"
    h = head(r)
    ran = subprocess.run(
        [sys.executable, "-c", HOOK_PROBE, "hook", "post-checkout", h, h, "1"],
        cwd=r,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0 and "snapshot 1 (post-checkout)" in ran.stderr, ran.stderr
    got: dict[str, object] = json.loads(ran.stdout)
    assert got["status"] == 0 and str(got["file"]).startswith(str(site)), got
    return got


def root_tree(store: Path) -> str:
    from git_snapshot.store import Store

    with Store(store) as st:
        (snap,) = st.snapshots()
        return snap.root.hex()


def older_interface(pkg: Path) -> None:
    """Make *pkg*'s _ctree.c one of another interface, as a module built before a change of
    build()'s arguments is (an editable install after a pull)."""
    source = pkg / "src" / "git_snapshot" / "store" / "_ctree.c"
    text, n = re.subn(r"(?m)^#define INTERFACE (\d+)$", "#define INTERFACE 0", source.read_text())
    assert n == 1
    source.write_text(text)


def without_openssl(tmp_path: Path) -> str:
    """A C compiler that fails on _readmany.c as one does without OpenSSL's headers."""
    cc = shutil.which((sysconfig.get_config_var("CC") or "cc").split()[0])
    wrapper = tmp_path / "cc-without-openssl"
    wrapper.write_text(
        "#!/bin/sh\n"
        'case "$*" in *_readmany*) echo "openssl/evp.h: No such file or directory" >&2; '
        "exit 1;; esac\n"
        f'exec {cc} "$@"\n'
    )
    wrapper.chmod(0o755)
    return str(wrapper)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["compiler", "no-compiler", "older-module", "no-openssl"])
def test_pip_install_builds_it_or_installs_the_twin_and_snapshots_agree(
    repo: Path, tmp_path: Path, case: str
) -> None:
    """pip install . succeeds with or without a C compiler (CC=/bin/false fails every
    compile, as a missing gcc or Python.h does) or OpenSSL's headers (_readmany alone not
    built); the hook runs either way, and its snapshot of the same tree is byte for byte the
    twin's (the same root tree key). A module of another interface than the Python beside it
    is left for the twin, not called."""
    if not SOURCE.exists():
        pytest.skip("no C source in this checkout")
    if case != "no-compiler" and not can_build():
        pytest.skip("no C compiler or no Python.h")
    pkg = package_copy(tmp_path / "pkg")
    if case == "older-module":
        older_interface(pkg)
    site = tmp_path / "site"
    cc = {"no-compiler": "/bin/false", "no-openssl": without_openssl(tmp_path)}.get(case)
    ran = pip_install(pkg, site, cc)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    built = list((site / "git_snapshot" / "store").glob("_ctree*.so"))
    reads = list((site / "git_snapshot" / "store").glob("_readmany*.so"))
    if case == "no-compiler":
        assert not built and "building extension" in ran.stdout + ran.stderr
    else:
        assert built, ran.stdout[-3000:]
    assert bool(reads) == (case in ("compiler", "older-module")), ran.stdout[-3000:]
    assert not list(site.rglob("*.c"))  # the source is the sdist's, not the wheel's

    varied_tree(repo)
    installed = run_hook(site, repo, tmp_path / "store-installed", pure=False)
    twin = run_hook(site, repo, tmp_path / "store-twin", pure=True)
    assert installed["native"] == (case in ("compiler", "no-openssl")) and not twin["native"]
    assert installed["reads"] == bool(reads) and twin["reads"] is False
    assert root_tree(tmp_path / "store-installed") == root_tree(tmp_path / "store-twin")

    doctor = subprocess.run(
        [sys.executable, "-c", "from git_snapshot.hookmain import main; exit(main())", "doctor"],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=False,
    )
    got = speedups_line(doctor.stdout)
    from git_snapshot.store.ctree import INTERFACE

    if case == "compiler":  # an installed copy: no source, never stale
        assert got == f"in use ({built[0]}, {reads[0]})"
        return
    first = {
        "no-openssl": "_readmany not built (no C compiler, or no Python or OpenSSL headers when "
        "git-snapshot was installed), so a first walk reads its files, and a restore's writers "
        "write theirs, in Python (the same snapshots, slower): with a C compiler and the "
        "headers (Debian, Ubuntu: apt install build-essential python3-dev libssl-dev), build "
        "them again:",
        "no-compiler": "not built (no C compiler or no Python headers when git-snapshot was "
        "installed), so",
        "older-module": f"built from another _ctree.c (interface 0, this code's is {INTERFACE})"
        ", so",
    }[case]
    assert got.startswith(first), got
    assert got.endswith("pip install --force-reinstall --no-deps FOLDER-OR-WHEEL, as installed")
