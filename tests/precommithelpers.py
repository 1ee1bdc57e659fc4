"""The real pre-commit framework for the hook tests (this module holds no tests).

The hook repository is a throwaway git repo made from the current working tree (src/,
pyproject.toml, setup.py, README.md, .pre-commit-hooks.yaml, hooks/, man/), so uncommitted
changes are what is tested. pre-commit builds its environment for it (a `pip install` of this
package, C speedups included: 10-70 s) ONCE PER RUN: the first xdist worker that needs it
builds it under a file lock in the run's shared temp folder, the others wait for it and reuse
it. Each test still gets a PRE_COMMIT_HOME of its own (`HookRepo.fresh_home`): pre-commit's
database there names the environment already built, which pre-commit then runs as it runs a
user's cached one; its patches, logs and config records stay the test's own.

conftest.py holds the fixtures (`hook_repo`, once a session, and `pc`, a test's repository).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from clihelpers import run
from hookhelpers import VENV_BIN
from hookhelpers import install

ROOT = Path(__file__).resolve().parent.parent
PRE_COMMIT = VENV_BIN / "pre-commit"
STAGES = ("pre-merge-commit", "pre-rebase", "post-checkout", "post-merge", "post-rewrite")


def readme_config() -> str:
    """The .pre-commit-config.yaml the README shows."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"^```yaml\n(.*?)^```", text, re.M | re.S)
    (config,) = [b for b in blocks if "default_install_hook_types" in b]
    return str(config)


@dataclass(frozen=True)
class HookRepo:
    path: Path  # the hook repository (a git repo of the working tree)
    rev: str
    home: Path  # the run's shared PRE_COMMIT_HOME, holding the environment built for path@rev

    def config(self) -> str:
        text = readme_config()
        text, n = re.subn(r"(?m)^(\s+- repo: )\S+.*$", rf"\g<1>{self.path}", text)
        assert n == 1
        text, n = re.subn(r"(?m)^(\s+rev: )\S+.*$", rf"\g<1>{self.rev}", text)
        assert n == 1
        return text

    def fresh_home(self, dest: Path) -> Path:
        """A new PRE_COMMIT_HOME at *dest* whose database names the environment built in
        `home` (pre-commit finds it there by repo and rev, checks it is healthy and runs it);
        nothing a test's pre-commit writes reaches the shared one."""
        dest.mkdir()
        shutil.copyfile(self.home / "README", dest / "README")
        shutil.copyfile(self.home / "db.db", dest / "db.db")
        return dest


def _env(home: Path, cache: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        "HOME": str(home),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "PRE_COMMIT_HOME": str(cache),
    }


def _build(base: Path) -> HookRepo:
    """The hook repository and pre-commit's environment for it, built in *base*."""
    pkg = base / "git-snapshot"
    pkg.mkdir()
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "*.so")
    for name in ("src", "hooks", "man"):  # man: a data file of the wheel
        shutil.copytree(ROOT / name, pkg / name, ignore=junk)
    # setup.py: pre-commit's pip install builds the C speedups, as for a user
    for name in ("pyproject.toml", "setup.py", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(ROOT / name, pkg / name)
    home = base / "home"
    home.mkdir()
    env = _env(home, base / "cache")
    run(pkg, "git", "init", "-q", env=env)
    run(pkg, "git", "add", "-A", env=env)
    run(pkg, "git", "commit", "-q", "-m", "git-snapshot as it is in the working tree", env=env)
    rev = run(pkg, "git", "rev-parse", "HEAD", env=env).out.strip()
    hr = HookRepo(pkg, rev, base / "cache")
    scratch = base / "scratch"
    scratch.mkdir()
    run(scratch, "git", "init", "-q", env=env)
    (scratch / ".pre-commit-config.yaml").write_text(hr.config())
    # a pip install in pre-commit's environment: a CI run on a loaded machine took over 120 s
    run(scratch, str(PRE_COMMIT), "install-hooks", env=env, timeout=900)
    return hr


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive flock on *path*: the kernel drops it when its holder dies, so a worker
    killed half-way through a build leaves the next one free to build again."""
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def shared_hook_repo(shared: Path) -> HookRepo:
    """The run's hook repository and environment, in *shared* (a folder every xdist worker of
    this run sees): built by the first caller, reused by every other, in any worker. A build
    that failed is not tried again (each caller fails with its error). One whose builder was
    killed has no `ready` record: the next caller builds again in a folder of its own (the dead
    builder's pre-commit or pip may still be writing into its half)."""
    shared = shared.resolve()
    ready = shared / "pre-commit.ready"
    failed = shared / "pre-commit.failed"
    with _locked(shared / "pre-commit.lock"):
        if not ready.exists():
            if failed.exists():
                raise AssertionError(f"pre-commit's environment failed: {failed.read_text()}")
            try:
                hr = _build(Path(tempfile.mkdtemp(prefix="pre-commit-", dir=shared)))
            except Exception as e:
                failed.write_text(f"{type(e).__name__}: {e}")
                raise
            tmp = ready.with_suffix(".tmp")
            tmp.write_text(json.dumps({"path": str(hr.path), "rev": hr.rev, "home": str(hr.home)}))
            tmp.replace(ready)
        got = json.loads(ready.read_text())
    return HookRepo(Path(got["path"]), got["rev"], Path(got["home"]))


def pc_install(r: Path, plain_too: bool = False) -> None:
    """`pre-commit install` in *r*, as a user runs it (and `git snapshot install` after it when
    *plain_too*)."""
    ran = run(r, str(PRE_COMMIT), "install")
    for stage in STAGES:
        assert f".git/hooks/{stage}" in ran.out, ran.out
    if plain_too:
        install(r)
