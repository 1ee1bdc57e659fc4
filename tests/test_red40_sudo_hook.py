"""RED40 C2 (finding 3): the hooks of a `sudo git ...` in a user's worktree snapshotted it into
root's store. The user's loss was reported to nobody, the restore command printed named root's
snapshot numbers (pasted as the user, it restored an older version of theirs), and a root
watcher went on copying the user's worktree into root's store.

A hook running as root with SUDO_UID set, in a worktree that user owns, now acts as that user:
their store, their report, their numbers. Root's own hook never starts a watcher for a worktree
another user owns.

The test user is made here (useradd), and runs a venv of its own on this Python; skipped where
the user cannot run it (a Python under root's 0700 home)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import run

import git_snapshot
from git_snapshot.watch import registry

TOOLS = ("useradd", "userdel", "setpriv")
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not all(shutil.which(t) for t in TOOLS),
    reason="needs root (to make a user and a Python it can run) and " + ", ".join(TOOLS),
)
SECRET = b"SECRET=alice-v1\n"


@dataclass
class User:
    name: str
    uid: int
    gid: int
    home: Path
    base: Path  # where root's home, and anything else of the test, is
    path: str  # PATH with the user's venv first

    def env(self) -> dict[str, str]:
        return {
            "PATH": self.path,
            "GIT_SNAPSHOT_ALLOW_EPHEMERAL": "1",  # (the test's folders are under /tmp)
            "GIT_SNAPSHOT_WATCH": "0",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "a",
            "GIT_AUTHOR_EMAIL": "a@x",
            "GIT_COMMITTER_NAME": "a",
            "GIT_COMMITTER_EMAIL": "a@x",
            "LANG": "C.UTF-8",
        }

    def run(self, cwd: Path, *argv: str, rc: int | None = 0, **extra: str) -> Ran:
        """*argv* as this user, in their environment."""
        env = {**self.env(), "HOME": str(self.home), "USER": self.name, **extra}
        who = [f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups"]
        return run(cwd, "setpriv", *who, *argv, rc=rc, env=env)

    def sudo(self, cwd: Path, *argv: str, rc: int | None = 0, **extra: str) -> Ran:
        """*argv* as `sudo` runs it for this user: root, SUDO_UID, root's HOME (env_reset)."""
        root_home = self.base / "roothome"
        env = {
            **self.env(),
            "HOME": str(root_home),
            "XDG_DATA_HOME": str(root_home / "data"),
            "SUDO_UID": str(self.uid),
            "SUDO_GID": str(self.gid),
            "SUDO_USER": self.name,
            "USER": "root",
            **extra,
        }
        return run(cwd, *argv, rc=rc, env=env)


def _sh(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


def _runnable_python(who: list[str]) -> str | None:
    """This Python, or the system's of the same minor version (one the test user can run: a
    Python under root's 0700 home is not; the ABI is the same, so the venv's compiled modules
    load), or None."""
    minor = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    for python in (os.path.realpath(sys.executable), f"/usr/bin/{minor}"):
        if not os.path.exists(python):
            continue
        # run by a process of the user's (a shell, as git runs the hook's git-snapshot), not
        # by setpriv itself: on some kernels setpriv's own exec still reached a Python under
        # root's 0700 home that the user's processes cannot (EACCES from git's exec)
        check = ["setpriv", *who, "sh", "-c", '"$0" -c ""', python]
        if not subprocess.run(check, check=False, capture_output=True).returncode:
            return python
    return None


@pytest.fixture(scope="module")
def alice() -> Iterator[User]:
    """A user made for the test, with a venv of its own on a Python it can run (skipped when
    there is none: see _runnable_python). Nothing is mounted: a folder
    removed whole must never reach outside the test's own files."""
    base = Path(tempfile.mkdtemp(prefix="red40c2-", dir="/tmp"))
    base.chmod(0o755)
    name = f"r40c2u{os.getpid()}"
    home = base / "alice"
    made = False
    try:
        _sh("useradd", "-M", "-d", str(home), "-s", "/bin/sh", name)
        made = True
        import pwd

        user = pwd.getpwnam(name)
        home.mkdir()
        os.chown(home, user.pw_uid, user.pw_gid)
        (base / "roothome").mkdir()
        who = [f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups"]
        python = _runnable_python(who)
        if python is None:
            pytest.skip(f"the test user can run no Python {sys.version_info[:2]}")
        venv = base / "venv"
        _sh(python, "-m", "venv", "--without-pip", str(venv))
        version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
        src = Path(git_snapshot.__file__).parent.parent
        site = venv / "lib" / version / "site-packages"
        (site / "red40c2.pth").write_text(f"{src}\n{sysconfig.get_paths()['purelib']}\n")
        exe = venv / "bin" / "git-snapshot"
        exe.write_text(
            f"#!{venv / 'bin' / 'python3'}\nimport sys\nfrom git_snapshot.hookmain import main\n"
            "sys.exit(main())\n"
        )
        exe.chmod(0o755)
        path = f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin"
        yield User(name, user.pw_uid, user.pw_gid, home, base, path)
    finally:
        if made:
            subprocess.run(["userdel", name], check=False)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def worktree(alice: User) -> Iterator[Path]:
    """alice's repository (hooks installed, her default store) whose branch `other` brings a
    committed .env over her ignored one, saved in her store."""
    repo = alice.home / "repo"
    alice.run(alice.home, "git", "init", "-q", "-b", "main", str(repo))
    script = (
        "echo .env > .gitignore && echo a > a.txt && git add . && git commit -qm init && "
        "git checkout -qb other && echo SHARED=team > .env && git add -f .env && "
        "git commit -qm other && git checkout -q main"
    )
    alice.run(repo, "sh", "-c", script)
    alice.run(repo, "git", "snapshot", "install")
    for i in range(3):
        alice.run(repo, "git", "snapshot", "create", "-m", f"pad {i}")
    (repo / ".env").write_bytes(SECRET)
    os.chown(repo / ".env", alice.uid, alice.gid)
    alice.run(repo, "git", "snapshot", "create", "-m", "secret")
    yield repo
    alice.run(repo, "git", "snapshot", "watch", "stop", rc=None)
    shutil.rmtree(repo, ignore_errors=True)
    shutil.rmtree(alice.home / ".local", ignore_errors=True)
    for left in (alice.base / "roothome").iterdir():
        shutil.rmtree(left, ignore_errors=True)


def _root_owned(top: Path) -> list[Path]:
    return [p for p in top.rglob("*") if p.lstat().st_uid == 0]


def test_a_sudo_checkout_is_reported_in_the_users_own_store(alice: User, worktree: Path) -> None:
    ran = alice.sudo(worktree, "git", "checkout", "-q", "other")
    assert (worktree / ".env").read_bytes() == b"SHARED=team\n"
    (rep,) = ran.reports
    assert rep.names == ".env", ran.err
    # her own snapshot numbers: pasted as printed, without sudo, it gives back her .env
    alice.run(worktree, *rep.command)
    assert (worktree / ".env").read_bytes() == SECRET
    (logged,) = alice.run(worktree, "git", "snapshot", "losses").splitlines()[1:2] or [""]
    assert ".env" in logged
    store = alice.home / ".local" / "share" / "git-snapshot"
    assert store.is_dir() and _root_owned(store) == []
    assert list((alice.base / "roothome").iterdir()) == []  # no store of root's


def test_a_sudo_hook_starts_the_users_watcher_not_roots(alice: User, worktree: Path) -> None:
    alice.sudo(worktree, "git", "checkout", "-q", "-b", "w", GIT_SNAPSHOT_WATCH="1")
    assert list((alice.base / "roothome").iterdir()) == []
    store = alice.home / ".local" / "share" / "git-snapshot"
    assert registry.active(str(store)) == [str(worktree)]
    # the watcher that hook started is hers: she finds it serving her store, and stops it
    alice.run(worktree, "git", "snapshot", "watch")  # (waits until it serves)
    assert "stopped the watcher" in alice.run(worktree, "git", "snapshot", "watch", "stop")
    assert _root_owned(store) == []


def test_roots_hook_in_another_users_worktree_starts_no_watcher(
    alice: User, worktree: Path
) -> None:
    """Root without SUDO_UID (su), or sudo for a third user: root's store takes the hook's
    snapshot, but no root daemon goes on copying someone else's worktree."""
    roots = alice.base / "roothome" / "store"
    trust = alice.base / "roothome" / "gitconfig"  # git lets root in: it was told to
    trust.write_text("[safe]\n\tdirectory = *\n")
    env = {**alice.env(), "HOME": str(alice.base / "roothome"), "GIT_SNAPSHOT_STORE": str(roots)}
    env.update(GIT_SNAPSHOT_WATCH="1", GIT_CONFIG_GLOBAL=str(trust))
    try:
        run(worktree, "git", "checkout", "-q", "-b", "w", env=env)
        assert registry.active(str(roots)) == []
        assert "not running" in run(worktree, "git", "snapshot", "watch", "stop", env=env)
    finally:
        run(worktree, "git", "snapshot", "watch", "stop", rc=None, env=env)


def test_a_user_who_cannot_run_this_git_snapshot_is_told_not_given_roots_store(
    alice: User, worktree: Path
) -> None:
    """Hooks installed (by root) from a git-snapshot in a folder only root may read: dropped
    to the user, its imports would fail half-way; it says why in one line instead, and
    snapshots into no store of root's."""
    private = alice.base / "private"
    private.mkdir(mode=0o700)
    shutil.copytree(alice.base / "venv", private / "venv", symlinks=True)
    src = Path(git_snapshot.__file__).parent
    shutil.copytree(src, private / "src" / "git_snapshot", ignore=shutil.ignore_patterns("*.pyc"))
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    pth = private / "venv" / "lib" / version / "site-packages" / "red40c2.pth"
    pth.write_text(f"{private / 'src'}\n{sysconfig.get_paths()['purelib']}\n")
    (private / "venv" / "bin" / "git-snapshot").write_text(
        f"#!{private / 'venv' / 'bin' / 'python3'}\nimport sys\n"
        "from git_snapshot.hookmain import main\nsys.exit(main())\n"
    )
    path = f"{private / 'venv' / 'bin'}:/usr/local/bin:/usr/bin:/bin"
    try:
        alice.sudo(worktree, "git", "snapshot", "uninstall", PATH=path)
        alice.sudo(worktree, "git", "snapshot", "install", PATH=path)
        roots = alice.sudo(worktree, "git", "snapshot", "list", PATH=path)
        ran = alice.sudo(worktree, "git", "checkout", "-q", "other", PATH=path)
        (line,) = ran.err.splitlines()
        assert line.startswith("git-snapshot: post-checkout snapshot failed: run by sudo"), line
        assert "cannot read" in line and line.endswith("run the git command without sudo")
        assert alice.sudo(worktree, "git", "snapshot", "list", PATH=path) == roots
    finally:
        shutil.rmtree(private)
