"""The plain hook shims: what git runs, with real git in temporary repos.

The real CLI is not used: the shims call a fake ``git-snapshot`` (a small sh script) that logs
its argv, stdin, cwd and exit status, and fails on request (``FAKE_FAIL``). The same script
stands in for the user's own hooks that the shims chain.
"""

from __future__ import annotations

import base64
import os
import shlex
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from clihelpers import git
from conftest import init_repo

from git_snapshot import hookfiles
from git_snapshot import install as inst
from git_snapshot.errors import UserError
from git_snapshot.hookfiles import shim_text
from git_snapshot.install import HOOK_NAMES
from git_snapshot.install import current_exe
from git_snapshot.install import install
from git_snapshot.install import uninstall

ROOT = Path(__file__).resolve().parent.parent
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"

# A logging stand-in for git-snapshot and for users' hooks. One line per call:
# tag, exit status, cwd, base64(argv, NUL-terminated), base64(stdin), probe.
# FAKE_FAIL is a space-separated list of keys: "exe:<hook name>" for the fake git-snapshot,
# the tag for a user hook. FAKE_PROBE names a file whose presence (in the cwd) is logged.
_LOGGER = """\
#!/bin/sh
PATH=/usr/local/bin:/usr/bin:/bin
export PATH
tag=@TAG@
log=@LOG@
input=$(cat; echo .)
input=${input%.}
key=$tag
if [ "$tag" = exe ]; then key="exe:$2"; fi
rc=0
case " ${FAKE_FAIL-} " in *" $key "*) rc=3 ;; esac
probe=
if [ -n "${FAKE_PROBE-}" ] && [ -e "$FAKE_PROBE" ]; then probe=present; fi
args=$(printf '%s\\0' "$@" | base64 -w0)
data=$(printf '%s' "$input" | base64 -w0)
printf '%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$tag" "$rc" "$(pwd)" "$args" "$data" "$probe" >>"$log"
exit $rc
"""


@dataclass(frozen=True)
class Call:
    tag: str
    rc: int
    cwd: str
    args: tuple[str, ...]
    stdin: str
    probe: bool

    @property
    def hook(self) -> str:
        """The hook name of a call of the fake git-snapshot (argv: hook NAME ...)."""
        assert self.args[0] == "hook", self.args
        return self.args[1]


class Fake:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.log = root / "calls.log"
        self.exe = root / "bin" / "git-snapshot"
        self.write_logger(self.exe, "exe")

    def write_logger(self, path: Path, tag: str, mode: int = 0o755) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = _LOGGER.replace("@TAG@", shlex.quote(tag)).replace(
            "@LOG@", shlex.quote(str(self.log))
        )
        path.write_text(text)
        path.chmod(mode)
        return path

    def calls(self, tag: str | None = None) -> list[Call]:
        if not self.log.exists():
            return []
        out = []
        for line in self.log.read_text().splitlines():
            t, rc, cwd, args, data, probe = line.split("\t")
            argv = base64.b64decode(args).split(b"\0")[:-1]
            call = Call(
                t,
                int(rc),
                cwd,
                tuple(a.decode() for a in argv),
                base64.b64decode(data).decode(),
                probe == "present",
            )
            if tag is None or call.tag == tag:
                out.append(call)
        return out

    def ours(self, hook: str | None = None) -> list[Call]:
        return [c for c in self.calls("exe") if hook is None or c.hook == hook]

    def clear(self) -> None:
        self.log.unlink(missing_ok=True)


@pytest.fixture
def fake(tmp_path: Path) -> Fake:
    return Fake(tmp_path / "fake")


def run_git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def head(r: Path) -> str:
    return git(r, "rev-parse", "HEAD").strip()


def commit_file(r: Path, name: str, text: str, msg: str | None = None) -> str:
    (r / name).write_text(text)
    git(r, "add", name)
    git(r, "commit", "-q", "-m", msg or f"add {name}")
    return head(r)


def hooks_dir(r: Path) -> Path:
    return Path(git(r, "rev-parse", "--path-format=absolute", "--git-path", "hooks").strip())


def diverged(r: Path) -> None:
    """main and feature each one commit past init; feature adds new.txt."""
    git(r, "checkout", "-q", "-b", "feature")
    commit_file(r, "new.txt", "from feature\n")
    git(r, "checkout", "-q", "main")
    commit_file(r, "main.txt", "from main\n")


def snapshot_dir(d: Path) -> dict[str, tuple[str, int, bytes]]:
    """name -> (kind, mode, bytes or link target) for every entry of *d*."""
    out: dict[str, tuple[str, int, bytes]] = {}
    for p in sorted(d.iterdir()):
        st = p.lstat()
        if stat.S_ISLNK(st.st_mode):
            out[p.name] = ("link", 0, os.readlink(p).encode())
        else:
            out[p.name] = ("file", stat.S_IMODE(st.st_mode), p.read_bytes())
    return out


# --------------------------------------------------------------------------- static files


def test_hooks_dir_files_are_shim_text() -> None:
    """hooks/ ships the one real sh file under each hook name; install fills in one line."""
    hooks = ROOT / "hooks"
    assert sorted(p.name for p in hooks.iterdir()) == sorted([*HOOK_NAMES, inst.POST_COMMIT])
    for name in HOOK_NAMES:
        path = hooks / name
        assert path.read_bytes() == shim_text(name, "git-snapshot").encode(), name
        assert stat.S_IMODE(path.stat().st_mode) == 0o755, name
    text = shim_text("post-merge", "/x/git-snapshot", ".husky/_").splitlines()
    template = hookfiles.template().splitlines()
    assert [i for i, (a, b) in enumerate(zip(text, template)) if a != b] == [9]
    # no fast start for a program that is not this environment's console script (the one
    # that is: tests/test_shim_fast.py)
    assert text[9] == "exe=/x/git-snapshot forward=.husky/_ py= tag= lib="


def test_pre_commit_manifest() -> None:
    clientlib = pytest.importorskip("pre_commit.clientlib")
    hooks = clientlib.load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    stages = [
        "pre-merge-commit",
        "pre-rebase",
        "post-checkout",
        "post-merge",
        "post-rewrite",
        "post-commit",
    ]
    assert [h["id"] for h in hooks] == [f"snapshot-{s}" for s in stages]
    for hook, st in zip(hooks, stages):
        assert hook["entry"] == f"git-snapshot hook {st}"
        assert hook["language"] == "python"
        assert hook["stages"] == [st]
        assert hook["always_run"] is True
        assert hook["pass_filenames"] is False
        # 3.2.0 introduced the pre-merge-commit stage name and the pre-rebase hook type.
        assert hook["minimum_pre_commit_version"] == "3.2.0"
        assert st in clientlib.STAGES


@pytest.mark.parametrize("shell", ["dash", "bash"])
def test_shims_parse_as_posix_sh(shell: str, tmp_path: Path) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} not installed")
    flags = ["-n"] if shell == "dash" else ["--posix", "-n"]
    for name in HOOK_NAMES:
        for exe in ("git-snapshot", "/opt/it's a $dir/`x`/git-snapshot"):
            path = tmp_path / name
            path.write_text(shim_text(name, exe))
            res = subprocess.run([shell, *flags, str(path)], capture_output=True, text=True)
            assert res.returncode == 0, (name, exe, res.stderr)


def test_shim_text_rejects_unknown_hook() -> None:
    with pytest.raises(ValueError):
        shim_text("not-a-hook", "git-snapshot")


# --------------------------------------------------------------------------- firing


@pytest.mark.parametrize("kind", ["three-way", "fast-forward"])
def test_merge_snapshots_once_before_the_worktree_changes(
    repo: Path, fake: Fake, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if kind == "three-way":
        diverged(repo)
    else:
        git(repo, "checkout", "-q", "-b", "feature")
        commit_file(repo, "new.txt", "from feature\n")
        git(repo, "checkout", "-q", "main")
    install(str(hooks_dir(repo)), str(fake.exe))
    fake.clear()
    monkeypatch.setenv("FAKE_PROBE", "new.txt")
    git(repo, "merge", "-q", "--no-edit", "feature")

    calls = fake.ours()
    rt = [c for c in calls if c.hook == "reference-transaction"]
    assert [c.args for c in rt] == [("hook", "reference-transaction", "prepared")]
    assert rt[0].probe is False  # the merge had not written new.txt yet
    assert calls[0] == rt[0]  # before any other hook
    expected = ["reference-transaction", "post-merge"]
    if kind == "three-way":
        expected.insert(1, "pre-merge-commit")
    assert [c.hook for c in calls] == expected
    assert calls[-1].args == ("hook", "post-merge", "0")
    assert calls[-1].probe is True
    assert all(c.cwd == str(repo) for c in calls)


def test_no_reference_transaction_snapshot_outside_merges(repo: Path, fake: Fake) -> None:
    install(str(hooks_dir(repo)), str(fake.exe))
    fake.clear()
    commit_file(repo, "a.txt", "a\n")
    git(repo, "checkout", "-q", "-b", "topic", "HEAD~1")
    commit_file(repo, "b.txt", "b\n")
    git(repo, "rebase", "-q", "main")
    git(repo, "checkout", "-q", "main")
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    git(repo, "cherry-pick", "topic")
    git(repo, "commit", "-q", "--amend", "-m", "amended")
    git(repo, "tag", "t1")
    git(repo, "branch", "-D", "topic")
    hooks = [c.hook for c in fake.ours()]
    assert "reference-transaction" not in hooks
    assert "post-checkout" in hooks  # the shims were live all along


def test_rebase_hooks(repo: Path, fake: Fake) -> None:
    base = head(repo)
    git(repo, "checkout", "-q", "-b", "topic")
    old = [commit_file(repo, "t1.txt", "1\n"), commit_file(repo, "t2.txt", "2\n")]
    git(repo, "checkout", "-q", "main")
    commit_file(repo, "m.txt", "m\n")
    git(repo, "checkout", "-q", "topic")
    install(str(hooks_dir(repo)), str(fake.exe))
    fake.clear()

    git(repo, "rebase", "-q", "main")
    new = git(repo, "rev-list", "--reverse", "main..topic").split()
    assert len(new) == 2 and set(new).isdisjoint(old) and base not in new
    calls = fake.ours()
    assert [c.hook for c in calls] == ["pre-rebase", "post-checkout", "post-rewrite"]
    assert calls[0].args == ("hook", "pre-rebase", "main")
    assert calls[1].args[-1] == "1"
    assert calls[2].args == ("hook", "post-rewrite", "rebase")
    assert calls[2].stdin == "".join(f"{o} {n}\n" for o, n in zip(old, new))


def test_checkout_hooks(repo: Path, fake: Fake) -> None:
    first = head(repo)
    git(repo, "checkout", "-q", "-b", "other")
    second = commit_file(repo, "o.txt", "o\n")
    install(str(hooks_dir(repo)), str(fake.exe))
    fake.clear()
    git(repo, "checkout", "-q", "main")
    (repo / "README").write_text("edited\n")
    git(repo, "checkout", "--", "README")
    assert [c.args for c in fake.ours()] == [
        ("hook", "post-checkout", second, first, "1"),
        ("hook", "post-checkout", first, first, "0"),
    ]


def test_amend_feeds_post_rewrite_stdin(repo: Path, fake: Fake) -> None:
    install(str(hooks_dir(repo)), str(fake.exe))
    old = head(repo)
    fake.clear()
    git(repo, "commit", "-q", "--amend", "-m", "amended")
    new = head(repo)
    calls = fake.ours()
    assert [(c.args, c.stdin) for c in calls] == [
        (("hook", "post-rewrite", "amend"), f"{old} {new}\n")
    ]


# --------------------------------------------------------------------------- exit statuses


def _git_with_failing_snapshot(
    repo: Path, fake: Fake, monkeypatch: pytest.MonkeyPatch, hook: str, *args: str
) -> subprocess.CompletedProcess[str]:
    """``git ARGS`` with the shims installed and the (fake) git-snapshot failing at *hook*:
    git must fail and leave HEAD where it was. Only the calls of that git are logged."""
    before = head(repo)
    install(str(hooks_dir(repo)), str(fake.exe))
    fake.clear()
    monkeypatch.setenv("FAKE_FAIL", f"exe:{hook}")
    res = run_git(repo, *args)
    assert res.returncode != 0
    assert head(repo) == before
    return res


def test_failed_pre_rebase_snapshot_aborts_the_rebase(
    repo: Path, fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(repo, "checkout", "-q", "-b", "topic")
    commit_file(repo, "t.txt", "t\n")
    git(repo, "checkout", "-q", "main")
    commit_file(repo, "m.txt", "m\n")
    git(repo, "checkout", "-q", "topic")
    _git_with_failing_snapshot(repo, fake, monkeypatch, "pre-rebase", "rebase", "main")
    assert not (repo / "m.txt").exists()
    assert [(c.hook, c.rc) for c in fake.ours()] == [("pre-rebase", 3)]


def test_failed_reference_transaction_snapshot_aborts_the_merge(
    repo: Path, fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    diverged(repo)
    merge = ("merge", "--no-edit", "feature")
    res = _git_with_failing_snapshot(repo, fake, monkeypatch, "reference-transaction", *merge)
    assert "aborted by hook" in res.stderr
    assert not (repo / "new.txt").exists()
    assert git(repo, "status", "--porcelain") == ""


def test_failed_pre_merge_commit_snapshot_stops_the_merge_commit(
    repo: Path, fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    diverged(repo)
    merge = ("merge", "--no-edit", "feature")
    _git_with_failing_snapshot(repo, fake, monkeypatch, "pre-merge-commit", *merge)


def test_failed_post_hook_snapshots_never_fail_git(
    repo: Path, fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    tip = commit_file(repo, "new.txt", "n\n")
    git(repo, "checkout", "-q", "main")
    install(str(hooks_dir(repo)), str(fake.exe))
    fake.clear()
    monkeypatch.setenv("FAKE_FAIL", "exe:post-checkout exe:post-merge exe:post-rewrite")
    assert run_git(repo, "checkout", "-q", "feature").returncode == 0
    assert run_git(repo, "checkout", "-q", "main").returncode == 0
    assert run_git(repo, "merge", "-q", "feature").returncode == 0
    assert head(repo) == tip
    assert run_git(repo, "commit", "-q", "--amend", "-m", "x").returncode == 0
    failed = {c.hook for c in fake.ours() if c.rc != 0}
    assert failed == {"post-checkout", "post-merge", "post-rewrite"}


def test_skip_env_disables_every_snapshot_but_not_chained_hooks(
    repo: Path, fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks = hooks_dir(repo)
    for name in HOOK_NAMES:
        fake.write_logger(hooks / name, f"orig-{name}")
    diverged(repo)
    install(str(hooks), str(fake.exe))
    fake.clear()
    monkeypatch.setenv("GIT_SNAPSHOT_SKIP", "1")
    git(repo, "merge", "-q", "--no-edit", "feature")
    git(repo, "checkout", "-q", "-b", "topic", "HEAD~1")
    commit_file(repo, "t.txt", "t\n")
    git(repo, "rebase", "-q", "main")
    git(repo, "commit", "-q", "--amend", "-m", "x")
    assert fake.ours() == []
    seen = {c.tag for c in fake.calls()}
    assert seen == {f"orig-{name}" for name in HOOK_NAMES}


# --------------------------------------------------------------------------- chaining


def _scenario(r: Path) -> None:
    diverged(r)
    git(r, "merge", "-q", "--no-edit", "feature")
    git(r, "checkout", "-q", "-b", "topic", "HEAD~2")
    commit_file(r, "t1.txt", "1\n")
    commit_file(r, "t2.txt", "2\n")
    git(r, "rebase", "-q", "main")
    git(r, "commit", "-q", "--amend", "-m", "amended")
    git(r, "checkout", "-q", "main")
    git(r, "pull", "-q", "--no-rebase", ".", "topic")


def test_chained_hooks_get_exactly_what_git_gave_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same history with and without the shims: the user's hooks see identical calls."""
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2021-01-01T00:00:00+0000")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2021-01-01T00:00:00+0000")
    logs: dict[str, list[tuple[str, tuple[str, ...], str, int]]] = {}
    fakes: dict[str, Fake] = {}
    for variant in ("plain", "shimmed"):
        r = init_repo(tmp_path / variant / "repo")
        commit_file(r, "README", "hello\n", "init")
        f = fakes[variant] = Fake(tmp_path / variant / "fake")
        hooks = hooks_dir(r)
        for name in HOOK_NAMES:
            f.write_logger(hooks / name, f"orig-{name}")
        if variant == "shimmed":
            install(str(hooks), str(f.exe))
        _scenario(r)
        logs[variant] = [(c.tag, c.args, c.stdin, c.rc) for c in f.calls() if c.tag != "exe"]
    assert logs["shimmed"] == logs["plain"]
    tags = {t for t, *_ in logs["plain"]}
    assert tags == {f"orig-{name}" for name in HOOK_NAMES}
    rt_stdin = [s for t, a, s, _ in logs["plain"] if t == "orig-reference-transaction" and s]
    assert any(" ORIG_HEAD\n" in s for s in rt_stdin)
    assert any(s.count("\n") >= 2 for s in rt_stdin)  # multi-line transactions passed whole
    rewrite = [s for t, a, s, _ in logs["plain"] if t == "orig-post-rewrite"]
    assert len(rewrite) == 2 and all(s.endswith("\n") and s for s in rewrite)
    ours = [c.hook for c in fakes["shimmed"].ours()]
    assert ours.count("reference-transaction") == 2  # the merge and the pull
    assert fakes["plain"].ours() == []


def test_chained_pre_hook_failure_still_aborts(
    repo: Path, fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks = hooks_dir(repo)
    for name in ("reference-transaction", "pre-rebase", "post-checkout"):
        fake.write_logger(hooks / name, f"orig-{name}")
    diverged(repo)
    before = head(repo)
    install(str(hooks), str(fake.exe))
    fake.clear()

    monkeypatch.setenv("FAKE_FAIL", "orig-reference-transaction")
    res = run_git(repo, "merge", "--no-edit", "feature")
    assert res.returncode != 0 and head(repo) == before
    assert not (repo / "new.txt").exists()
    first_two = [(c.tag, c.args[-1]) for c in fake.calls()[:2]]
    assert first_two == [("exe", "prepared"), ("orig-reference-transaction", "prepared")]

    git(repo, "checkout", "-q", "feature")
    monkeypatch.setenv("FAKE_FAIL", "orig-pre-rebase")
    res = run_git(repo, "rebase", "main")
    assert res.returncode != 0 and not (repo / "main.txt").exists()

    # Ours failing: the chained hook still runs (it sees what it always saw), git aborts.
    fake.clear()
    monkeypatch.setenv("FAKE_FAIL", "exe:pre-rebase")
    res = run_git(repo, "rebase", "main")
    assert res.returncode != 0 and not (repo / "main.txt").exists()
    assert [c.tag for c in fake.calls()] == ["exe", "orig-pre-rebase"]

    # A post-hook's status is the chained hook's, as it was without the shim.
    monkeypatch.setenv("FAKE_FAIL", "orig-post-checkout")
    assert run_git(repo, "checkout", "-q", "main").returncode == 1
    monkeypatch.setenv("FAKE_FAIL", "exe:post-checkout")
    assert run_git(repo, "checkout", "-q", "feature").returncode == 0


@pytest.mark.parametrize("name", ["reference-transaction", "post-rewrite"])
@pytest.mark.parametrize("data", ["a b c\n", "a b c\nd e f\n\n", "no newline", "", "x\n" * 5000])
def test_stdin_reaches_ours_and_chained_byte_for_byte(
    tmp_path: Path, fake: Fake, name: str, data: str
) -> None:
    """Run a shim directly, as git would; both consumers get the same stdin."""
    hooks = tmp_path / "hooks"
    fake.write_logger(hooks / f"{name}{hookfiles.CHAINED_SUFFIX}", "orig")
    install(str(hooks), str(fake.exe))
    if name == "reference-transaction":
        args, stdin = ["prepared"], data + "0000 1111 ORIG_HEAD\n"
        env = {**os.environ, "GIT_REFLOG_ACTION": "merge topic"}
    else:
        args, stdin, env = ["rebase"], data, dict(os.environ)
    res = subprocess.run(
        [str(hooks / name), *args], input=stdin, env=env, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    calls = fake.calls()
    assert [c.tag for c in calls] == ["exe", "orig"]
    assert calls[1].stdin == stdin and calls[1].args == tuple(args)
    if name == "post-rewrite":
        assert calls[0].stdin == stdin  # git-snapshot reads the rewritten pairs


# --------------------------------------------------------------------------- install / uninstall


def test_install_messages_and_modes(tmp_path: Path, fake: Fake) -> None:
    hooks = tmp_path / "new" / "hooks"  # created if missing
    msgs = install(str(hooks), str(fake.exe))
    assert msgs == [f"{n}: installed" for n in HOOK_NAMES]
    for name in HOOK_NAMES:
        path = hooks / name
        assert path.read_text() == shim_text(name, str(fake.exe))
        assert stat.S_IMODE(path.stat().st_mode) == 0o755
    assert sorted(p.name for p in hooks.iterdir()) == sorted(HOOK_NAMES)  # no temp files


def test_install_twice_is_idempotent_and_updates_the_exe(repo: Path, fake: Fake) -> None:
    hooks = hooks_dir(repo)
    fake.write_logger(hooks / "post-checkout", "orig")
    (hooks / "pre-rebase").write_bytes(b"#!/bin/sh\nexit 0\n")
    (hooks / "pre-rebase").chmod(0o700)
    first = install(str(hooks), str(fake.exe))
    assert "chained" in first[HOOK_NAMES.index("post-checkout")]
    state = snapshot_dir(hooks)
    inodes = {p.name: p.stat().st_ino for p in hooks.iterdir()}

    again = install(str(hooks), str(fake.exe))
    assert again == [f"{n}: already installed" for n in HOOK_NAMES]
    assert snapshot_dir(hooks) == state
    assert {p.name: p.stat().st_ino for p in hooks.iterdir()} == inodes  # nothing rewritten
    assert not any(
        p.name.endswith(".git-snapshot-chained.git-snapshot-chained") for p in hooks.iterdir()
    )

    moved = fake.root / "elsewhere" / "git-snapshot"
    fake.write_logger(moved, "exe")
    updated = install(str(hooks), str(moved))
    assert all(m.startswith(f"{n}: updated") for n, m in zip(HOOK_NAMES, updated))
    for name in HOOK_NAMES:
        assert (hooks / name).read_text() == shim_text(name, str(moved))
    new_state = snapshot_dir(hooks)
    chained = {k: v for k, v in state.items() if k.endswith(hookfiles.CHAINED_SUFFIX)}
    assert {k: new_state[k] for k in chained} == chained
    assert set(new_state) == set(state)

    fake.clear()
    git(repo, "checkout", "-q", "-b", "x")
    assert [c.tag for c in fake.calls()] == ["exe", "orig"]


def test_uninstall_restores_the_original_hooks_byte_for_byte(repo: Path, fake: Fake) -> None:
    hooks = hooks_dir(repo)
    (hooks / "post-checkout").write_bytes(b"#!/bin/sh\n# \xff\xfe odd bytes, no newline at end")
    (hooks / "post-checkout").chmod(0o750)
    (hooks / "pre-merge-commit").write_bytes(b"#!/bin/sh\nexit 1\n")
    (hooks / "pre-merge-commit").chmod(0o644)  # not executable: git ignores it, so do we
    scripts = repo / "scripts"
    scripts.mkdir()
    fake.write_logger(scripts / "rt.sh", "orig-rt")
    os.symlink("../../scripts/rt.sh", hooks / "reference-transaction")
    before = snapshot_dir(hooks)

    install(str(hooks), str(fake.exe))
    assert (hooks / f"reference-transaction{hookfiles.CHAINED_SUFFIX}").is_symlink()
    fake.clear()
    git(repo, "checkout", "-q", "-b", "b1")  # the chained symlinked hook still works
    assert "orig-rt" in {c.tag for c in fake.calls()}

    msgs = uninstall(str(hooks))
    assert msgs[HOOK_NAMES.index("post-checkout")] == (
        "post-checkout: removed; restored the hook it chained"
    )
    assert msgs[HOOK_NAMES.index("post-merge")] == "post-merge: removed"
    assert snapshot_dir(hooks) == before
    assert uninstall(str(hooks)) == [f"{n}: not installed" for n in HOOK_NAMES]
    assert snapshot_dir(hooks) == before


def test_conflict_changes_nothing(tmp_path: Path, fake: Fake) -> None:
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "post-merge").write_text("#!/bin/sh\necho mine\n")
    (hooks / f"post-merge{hookfiles.CHAINED_SUFFIX}").write_text("#!/bin/sh\necho other\n")
    before = snapshot_dir(hooks)
    with pytest.raises(UserError, match="post-merge"):
        install(str(hooks), str(fake.exe))
    assert snapshot_dir(hooks) == before


def test_a_chained_shim_of_ours_is_dropped(tmp_path: Path, fake: Fake) -> None:
    """A shim chaining a shim would run itself forever: install removes such a file."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    stray = hooks / f"post-merge{hookfiles.CHAINED_SUFFIX}"
    stray.write_text(shim_text("post-merge", str(fake.exe)))
    stray.chmod(0o755)
    install(str(hooks), str(fake.exe))
    assert not stray.exists()
    res = subprocess.run([str(hooks / "post-merge"), "0"], capture_output=True, timeout=20)
    assert res.returncode == 0
    assert [c.args for c in fake.ours()] == [("hook", "post-merge", "0")]


@pytest.mark.parametrize("where", ["relative", "absolute"])
def test_core_hooks_path(repo: Path, fake: Fake, tmp_path: Path, where: str) -> None:
    hooks = repo / ".githooks" if where == "relative" else tmp_path / "shared-hooks"
    git(repo, "config", "core.hooksPath", ".githooks" if where == "relative" else str(hooks))
    assert hooks_dir(repo) == hooks
    diverged(repo)
    fake.write_logger(hooks / "post-merge", "orig")
    install(str(hooks), str(fake.exe))
    fake.clear()
    git(repo, "merge", "-q", "--no-edit", "feature")
    assert [c.hook for c in fake.ours()] == [
        "reference-transaction",
        "pre-merge-commit",
        "post-merge",
    ]
    assert [c.args for c in fake.calls("orig")] == [("0",)]


def test_linked_worktree_uses_the_common_hooks(repo: Path, fake: Fake, tmp_path: Path) -> None:
    install(str(hooks_dir(repo)), str(fake.exe))
    wt = tmp_path / "wt"
    fake.clear()
    git(repo, "worktree", "add", "-q", str(wt), "-b", "wtbranch")
    assert hooks_dir(wt) == hooks_dir(repo)
    added = fake.ours()
    assert [(c.hook, c.cwd) for c in added] == [("post-checkout", str(wt))]
    assert added[0].args[2] == "0" * 40  # worktree add: no previous HEAD

    commit_file(repo, "main.txt", "m\n")
    commit_file(wt, "wt.txt", "w\n")
    fake.clear()
    git(wt, "merge", "-q", "--no-edit", "main")
    calls = fake.ours()
    assert [c.hook for c in calls] == ["reference-transaction", "pre-merge-commit", "post-merge"]
    assert {c.cwd for c in calls} == {str(wt)}


# --------------------------------------------------------------------------- missing exe


def test_missing_exe_never_blocks_git_and_says_how_to_remove_the_shim(
    repo: Path, tmp_path: Path, fake: Fake
) -> None:
    """The venv was deleted without uninstall: merge, pull, rebase and checkout go on; each shim
    prints one line whose commands, pasted anywhere, remove it and put the user's hook back."""
    exe = tmp_path / "gone" / "git-snapshot"
    diverged(repo)
    fake.write_logger(hooks_dir(repo) / "post-merge", "orig")
    install(str(hooks_dir(repo)), str(exe))
    res = run_git(repo, "merge", "--no-edit", "feature")
    assert res.returncode == 0 and (repo / "new.txt").exists()
    lines = [ln for ln in res.stderr.splitlines() if "git-snapshot" in ln]
    prefix = f"git-snapshot: {exe} is gone, so the "
    assert [ln.split(" hook ")[0] for ln in lines] == [
        prefix + "reference-transaction",
        prefix + "pre-merge-commit",
        prefix + "post-merge",
    ]
    assert [c.args for c in fake.calls("orig")] == [("0",)]  # the user's hook still ran
    for name in ("post-checkout", "pre-rebase", "post-rewrite"):
        res = run_git(
            repo,
            *{
                "post-checkout": ["checkout", "-q", "feature"],
                "pre-rebase": ["rebase", "main"],
                "post-rewrite": ["commit", "-q", "--amend", "-m", "x"],
            }[name],
        )
        assert res.returncode == 0, res.stderr
        assert f"so the {name} hook took no snapshot" in res.stderr
        lines += [ln for ln in res.stderr.splitlines() if "git-snapshot" in ln]
    hooks = hooks_dir(repo)
    for line in lines:
        cmd = line.split("; to remove this hook: ")[1]
        if (hooks / cmd.split("'")[-2].rsplit("/", 1)[-1]).exists():
            ran = subprocess.run(["sh", "-c", cmd], cwd=tmp_path, capture_output=True, text=True)
            assert ran.returncode == 0, (cmd, ran.stderr)
    assert sorted(p.name for p in hooks.iterdir() if not p.name.endswith(".sample")) == [
        "post-merge"
    ]
    assert not hookfiles.is_our_shim(str(hooks / "post-merge"))
    git(repo, "checkout", "-q", "main")
    res = run_git(repo, "merge", "--no-edit", "feature")
    assert res.returncode == 0 and "git-snapshot" not in res.stderr


def test_hooks_dir_copies_find_git_snapshot_on_path(tmp_path: Path, fake: Fake) -> None:
    """The hooks/ files name `git-snapshot` bare: they need it on PATH (without, git goes on)."""
    shim = ROOT / "hooks" / "pre-rebase"
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    res = subprocess.run([str(shim), "main"], env=env, capture_output=True, text=True)
    assert res.returncode == 0
    assert res.stderr.startswith("git-snapshot: git-snapshot is gone, so the pre-rebase hook ")
    assert fake.calls() == []
    env["PATH"] = f"{fake.exe.parent}:/usr/bin:/bin"
    res = subprocess.run([str(shim), "main"], env=env, capture_output=True, text=True)
    assert res.returncode == 0
    assert [c.args for c in fake.ours()] == [("hook", "pre-rebase", "main")]


# --------------------------------------------------------------------------- cost of the RT shim


_QUIET_CASES = [
    ("committed", "merge feature", "0 1 ORIG_HEAD\n", {}),
    ("aborted", "merge feature", "0 1 ORIG_HEAD\n", {}),
    ("prepared", "rebase (pick) x", "0 1 ORIG_HEAD\n", {}),
    ("prepared", "commit (amend)", "0 1 HEAD\n0 1 refs/heads/main\n", {}),
    ("prepared", "", "0 1 refs/heads/main\n", {}),
    ("prepared", "merge feature", "0 1 HEAD\n0 1 refs/heads/main\n", {}),
    ("prepared", "merge feature", "0 1 refs/heads/ORIG_HEAD\n", {}),
    ("prepared", "merge feature", "0 1 ORIG_HEAD\n", {"GIT_SNAPSHOT_SKIP": "1"}),
]


@pytest.mark.parametrize(("state", "action", "stdin", "extra"), _QUIET_CASES)
def test_reference_transaction_shim_spawns_nothing_when_quiet(
    tmp_path: Path, fake: Fake, state: str, action: str, stdin: str, extra: dict[str, str]
) -> None:
    hooks = tmp_path / "hooks"
    install(str(hooks), str(fake.exe))
    shim = hooks / "reference-transaction"
    # No PATH: any external command (cat, grep, ...) would fail with a message on stderr.
    env = {"PATH": str(tmp_path / "empty"), "GIT_REFLOG_ACTION": action, **extra}
    res = subprocess.run(
        ["/bin/sh", str(shim), state], input=stdin, env=env, capture_output=True, text=True
    )
    assert (res.returncode, res.stderr) == (0, "")
    assert fake.calls() == []


def test_reference_transaction_shim_runs_only_the_exe_on_orig_head(
    tmp_path: Path, fake: Fake
) -> None:
    hooks = tmp_path / "hooks"
    install(str(hooks), str(fake.exe))
    env = {"PATH": str(tmp_path / "empty"), "GIT_REFLOG_ACTION": "pull origin main"}
    stdin = "0" * 40 + " " + "1" * 40 + " ORIG_HEAD\n"
    res = subprocess.run(
        ["/bin/sh", str(hooks / "reference-transaction"), "prepared"],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
    )
    assert (res.returncode, res.stderr) == (0, "")
    assert [c.args for c in fake.ours()] == [("hook", "reference-transaction", "prepared")]


def test_reference_transaction_fast_path_under_strace(tmp_path: Path, fake: Fake) -> None:
    """Counted, not timed: the no-op path executes the shell and nothing else."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace not installed")
    hooks = tmp_path / "hooks"
    install(str(hooks), str(fake.exe))
    trace = tmp_path / "trace"
    env = {**os.environ, "GIT_REFLOG_ACTION": "rebase (pick) x"}
    res = subprocess.run(
        [
            *(strace, "-f", "-qq", "-e", "trace=execve,fork,vfork,clone,clone3", "-o", str(trace)),
            *("/bin/sh", str(hooks / "reference-transaction"), "prepared"),
        ],
        input="0 1 ORIG_HEAD\n",
        env=env,
        capture_output=True,
        text=True,
    )
    if res.returncode != 0 and "ptrace" in res.stderr:
        pytest.skip(f"strace cannot trace here: {res.stderr.strip()}")
    assert res.returncode == 0, res.stderr
    events = [
        ln
        for ln in trace.read_text().splitlines()
        if "execve" in ln or "clone" in ln or "fork" in ln
    ]
    assert len(events) == 1 and 'execve("/bin/sh"' in events[0], events


# --------------------------------------------------------------------------- pre-commit


@pytest.fixture
def pc_repo(repo: Path, fake: Fake) -> Iterator[Path]:
    """A repo whose pre-commit config has one post-checkout hook that logs as "pc"."""
    if not PRE_COMMIT.exists():
        pytest.skip("pre-commit is not installed next to this Python")
    pc_hook = fake.write_logger(fake.root / "pc-hook", "pc")
    (repo / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        "- repo: local\n"
        "  hooks:\n"
        "  - id: log\n"
        "    name: log\n"
        f"    entry: {pc_hook}\n"
        "    language: system\n"
        "    stages: [post-checkout]\n"
        "    always_run: true\n"
        "    pass_filenames: false\n"
    )
    git(repo, "add", ".pre-commit-config.yaml")
    git(repo, "commit", "-q", "-m", "pre-commit config")
    git(repo, "branch", "other")
    yield repo


def _pre_commit(r: Path, *args: str) -> None:
    res = subprocess.run(
        [str(PRE_COMMIT), *args], cwd=r, capture_output=True, text=True, check=False
    )
    assert res.returncode == 0, res.stdout + res.stderr


def _checkout_tags(r: Path, fake: Fake, branch: str) -> list[str]:
    fake.clear()
    res = run_git(r, "checkout", "-q", branch)
    assert res.returncode == 0, res.stdout + res.stderr
    return sorted(c.tag for c in fake.calls())


@pytest.mark.slow
@pytest.mark.parametrize("order", ["pre-commit first", "git-snapshot first"])
def test_coexists_with_pre_commit(pc_repo: Path, fake: Fake, order: str) -> None:
    r = pc_repo
    hooks = hooks_dir(r)
    original = fake.write_logger(hooks / "post-checkout", "orig")
    original_bytes = original.read_bytes()
    both = ["exe", "orig", "pc"]

    def ours() -> None:
        install(str(hooks), str(fake.exe))

    def theirs() -> None:
        _pre_commit(r, "install", "--hook-type", "post-checkout")

    steps = [theirs, ours] if order == "pre-commit first" else [ours, theirs]
    for step in steps:
        step()
    assert _checkout_tags(r, fake, "other") == both
    # Same layout whatever the order: pre-commit's script runs ours as post-checkout.legacy.
    assert b"File generated by pre-commit" in (hooks / "post-checkout").read_bytes()
    assert hookfiles.is_our_shim(str(hooks / "post-checkout.legacy"))
    assert (hooks / f"post-checkout{hookfiles.CHAINED_SUFFIX}").read_bytes() == original_bytes

    # Re-running either installer, in any order, changes nothing.
    state = snapshot_dir(hooks)
    theirs()
    msgs = install(str(hooks), str(fake.exe))
    assert "post-checkout: already installed as post-checkout.legacy" in msgs[3]
    theirs()
    ours()
    assert snapshot_dir(hooks) == state
    assert _checkout_tags(r, fake, "main") == both

    assert "restored" in uninstall(str(hooks))[HOOK_NAMES.index("post-checkout")]
    assert _checkout_tags(r, fake, "other") == ["orig", "pc"]
    _pre_commit(r, "uninstall", "--hook-type", "post-checkout")
    assert (hooks / "post-checkout").read_bytes() == original_bytes
    assert _checkout_tags(r, fake, "main") == ["orig"]


@pytest.mark.slow
def test_pre_commit_uninstall_leaves_our_shim_in_place(pc_repo: Path, fake: Fake) -> None:
    r = pc_repo
    hooks = hooks_dir(r)
    _pre_commit(r, "install", "--hook-type", "post-checkout")
    install(str(hooks), str(fake.exe))
    _pre_commit(r, "uninstall", "--hook-type", "post-checkout")
    assert hookfiles.is_our_shim(str(hooks / "post-checkout"))
    assert _checkout_tags(r, fake, "other") == ["exe"]


# --------------------------------------------------------------------------- current_exe


def test_current_exe_prefers_the_one_next_to_python(
    tmp_path: Path, fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv_bin = tmp_path / "venv" / "bin"
    fake.write_logger(venv_bin / "git-snapshot", "exe")
    on_path = fake.write_logger(tmp_path / "path" / "git-snapshot", "exe")
    monkeypatch.setenv("PATH", str(on_path.parent))
    monkeypatch.setattr(sys, "executable", str(venv_bin / "python"))
    assert current_exe() == str(venv_bin / "git-snapshot")

    monkeypatch.setattr(sys, "executable", str(tmp_path / "elsewhere" / "python"))
    assert current_exe() == str(on_path)

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(UserError, match="cannot find the git-snapshot executable"):
        current_exe()
