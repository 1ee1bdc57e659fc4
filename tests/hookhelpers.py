"""Helpers for the hook tests (this module holds no tests).

Everything is real: git, the hook shims put in place by ``git snapshot install`` (the console
script found on PATH, as a user runs it), and the ``git-snapshot`` those shims call. The
conftest isolates HOME, git config and the store; subprocesses inherit that environment.
"""

from __future__ import annotations

import json
import os
import sys
import tarfile
from collections.abc import Callable
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from clihelpers import Ran
from clihelpers import Report
from clihelpers import git
from clihelpers import gs
from clihelpers import run

VENV_BIN = Path(sys.executable).parent
EXE = VENV_BIN / "git-snapshot"

# A secret that only the snapshot can give back: not UTF-8, a NUL, no final newline.
SECRET = b"TOKEN=s3cr\xe9t\x00value"
COMMITTED = b"from the branch\n"
MINE = b"MINE\n"  # an uncommitted edit a test destroys


def put_venv_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    assert EXE.exists(), f"{EXE} is missing: pip install -e . in this venv"
    monkeypatch.setenv("PATH", f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")


def install(repo: Path) -> Ran:
    """``git snapshot install``, as a user runs it."""
    ran = gs(repo, "install")
    assert "reference-transaction: installed" in ran.out + ran.err, ran
    return ran


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").out.strip()


def write(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)


def commit(repo: Path, rel: str, data: bytes, msg: str = "", force: bool = False) -> str:
    """Write *rel*, commit it (``force``: even if ignored); returns the new HEAD."""
    write(repo / rel, data)
    git(repo, "add", *(["-f"] if force else []), rel)
    git(repo, "commit", "-q", "-m", msg or f"add {rel}")
    return head(repo)


def side_commit(
    repo: Path, branch: str, files: Mapping[str, bytes], base: str = "HEAD", msg: str = ""
) -> str:
    """Commit *files* on top of *base* as branch *branch*, without touching the worktree, the
    index or HEAD (so no hook takes a snapshot); returns the commit id."""
    git_dir = Path(git(repo, "rev-parse", "--absolute-git-dir").out.strip())
    index = git_dir / "side-index"
    env = {**os.environ, "GIT_INDEX_FILE": str(index)}
    parent = git(repo, "rev-parse", "--verify", f"{base}^{{commit}}").out.strip()
    run(repo, "git", "read-tree", parent, env=env)
    for rel, data in files.items():
        blob = run(repo, "git", "hash-object", "-w", "--stdin", input=data).out.strip()
        run(repo, "git", "update-index", "--add", "--cacheinfo", f"100644,{blob},{rel}", env=env)
    tree = run(repo, "git", "write-tree", env=env).out.strip()
    index.unlink()
    new = git(repo, "commit-tree", tree, "-p", parent, "-m", msg or f"{branch}: side").out.strip()
    git(repo, "update-ref", f"refs/heads/{branch}", new)
    return new


def snaps(repo: Path) -> list[dict[str, Any]]:
    """``git snapshot list --json`` of the worktree at *repo*, oldest first."""
    data = json.loads(gs(repo, "list", "--json").out)
    assert isinstance(data, list)
    return data


def triggers(repo: Path) -> list[str]:
    return [s["trigger"] for s in snaps(repo)]


def by_id(repo: Path, snap: int) -> dict[str, Any]:
    (found,) = [s for s in snaps(repo) if s["id"] == snap]
    return found


def saved(repo: Path, snap: int | str, tmp: Path) -> dict[str, bytes]:
    """Every regular file of a snapshot, byte for byte (through ``git snapshot export``)."""
    tar = tmp / f"snap-{snap}-{len(list(tmp.glob('snap-*')))}.tar"
    gs(repo, "export", str(snap), str(tar))
    out: dict[str, bytes] = {}
    with tarfile.open(tar) as tf:
        for member in tf.getmembers():
            if member.isfile():
                f = tf.extractfile(member)
                assert f is not None
                out[member.name] = f.read()
    return out


def restore(cwd: Path, report: Report) -> Ran:
    """Run the restore command a report printed, where the user ran git."""
    assert report.command[:3] == ["git", "snapshot", "restore"], report
    return run(cwd, *report.command)


def env_report(ran: Ran, what: str) -> Report:
    """The one loss report *ran* printed: *what* (say "git merge") destroyed .env."""
    (rep,) = ran.reports
    assert (rep.what, rep.names) == (what, ".env")
    return rep


def restore_env(repo: Path, report: Report, cwd: Path | None = None) -> None:
    """Run the restore command *report* printed (in *cwd*, else in *repo*): .env of *repo*
    holds SECRET again."""
    restore(repo if cwd is None else cwd, report)
    assert (repo / ".env").read_bytes() == SECRET


def file_state(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mode & 0o7777


def worktree_state(repo: Path) -> dict[str, bytes]:
    """Every file under *repo* except .git, with its content (symlinks as their target)."""
    out: dict[str, bytes] = {}
    for root, dirs, files in os.walk(repo):
        dirs[:] = sorted(d for d in dirs if not (root == str(repo) and d == ".git"))
        for name in files:
            full = os.path.join(root, name)
            rel = os.path.relpath(full, repo)
            out[rel] = (
                os.fsencode(os.readlink(full)) if os.path.islink(full) else Path(full).read_bytes()
            )
    return out


def edited_and_saved(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*repo*, hooked, a.txt committed ("v1") then edited to MINE, which snapshot 'holds MINE'
    (a `git snapshot create`) saves."""
    put_venv_on_path(monkeypatch)
    commit(repo, "a.txt", b"v1\n")
    install(repo)
    (repo / "a.txt").write_bytes(MINE)
    gs(repo, "-m", "holds MINE")
    return repo


def named_lost(repo: Path) -> list[str]:
    """The paths every loss report of *repo*'s worktree names, oldest report first."""
    return [x["path"] for e in json.loads(gs(repo, "losses", "--json").out) for x in e["lost"]]


def named_once(repo: Path) -> list[str]:
    """The paths the one loss report of *repo*'s worktree names (there is one), sorted."""
    (entry,) = json.loads(gs(repo, "losses", "--json").out)
    return sorted(x["path"] for x in entry["lost"])


def not_the_commands(ran: Ran, path: str) -> bool:
    """*path*, which the user deleted after the snapshot before, is named in none of *ran*'s
    "destroyed" reports, only in the line of files gone since "not by" the command (red44
    F5b: a report printed anyway names them so, and undo puts them back)."""
    also = [ln for ln in ran.ours if "also gone since" in ln and ", not by " in ln]
    return all(path not in r.names for r in ran.reports) and any(path in ln for ln in also)


ALLOW_FILE = ("-c", "protocol.file.allow=always")  # `submodule add` of a local repository
CRLF_RULE = b"*.txt text eol=crlf\n"


def submodule_lib(tmp_path: Path, attributes: bytes | None, text: bytes) -> Path:
    """*tmp_path*/lib: a repository whose a.txt is *text* (commit s1), with *attributes* in
    its .gitattributes (None: no such file)."""
    lib = tmp_path / "lib"
    lib.mkdir()
    git(lib, "init", "-q")
    if attributes is not None:
        (lib / ".gitattributes").write_bytes(attributes)
    (lib / "a.txt").write_bytes(text)
    git(lib, "add", ".")
    git(lib, "commit", "-qm", "s1")
    return lib


def add_submodule(repo: Path, lib: Path, msg: str = "sub") -> None:
    """*lib* added to *repo* as its submodule sub, committed."""
    git(repo, *ALLOW_FILE, "submodule", "-q", "add", str(lib), "sub")
    git(repo, "commit", "-qm", msg)


def hooked_superproject(
    repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    attributes: bytes | None,
    text: bytes,
) -> Path:
    """*repo* with sub: a submodule (submodule_lib: a.txt is *text*, *attributes*). Hooks in."""
    put_venv_on_path(monkeypatch)
    add_submodule(repo, submodule_lib(tmp_path, attributes, text))
    install(repo)
    return repo


def left_out_folder(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*repo*: a.txt and v/t.txt committed on main (with what is staged), /v/ left out of
    snapshots, the hooks installed; branch `other` (made with the hooks on) without v/,
    checked out."""
    put_venv_on_path(monkeypatch)
    commit(repo, "a.txt", b"base\n")
    commit(repo, "v/t.txt", b"tracked\n")
    git(repo, "config", "snapshot.exclude", "/v/")
    install(repo)
    git(repo, "checkout", "-q", "-b", "other")
    git(repo, "rm", "-q", "-r", "v")
    git(repo, "commit", "-qm", "no v")
    return repo


def left_out_bin(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*repo* on main: a.txt, `*.bin` ignored by git and left out of snapshots, the hooks
    installed; branch `other` tracks x.bin (added with -f)."""
    put_venv_on_path(monkeypatch)
    write(repo / ".gitignore", b"*.bin\n")
    commit(repo, "a.txt", b"base\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-qm", "ignore")
    git(repo, "config", "snapshot.exclude", "*.bin")
    install(repo)
    git(repo, "checkout", "-q", "-b", "other")
    commit(repo, "x.bin", b"theirs\n", force=True)
    git(repo, "checkout", "-q", "main")
    return repo


def env_lost_to_checkout(repo: Path, later: int, secret: bytes = b"SECRET=precious\n") -> Report:
    """A checkout of branch tracks wrote over the ignored .env (*secret*, hooks installed): the
    loss report it printed names snapshot 1. Back on main, *later* snapshots of w follow."""
    commit(repo, ".gitignore", b".env\n")
    side_commit(repo, "tracks", {".env": b"TRACKED=1\n"})
    install(repo)
    write(repo / ".env", secret)
    gs(repo, "-m", "before")
    ran = git(repo, "checkout", "-q", "tracks")
    (report,) = ran.reports
    assert report.snap == 1, ran.err
    git(repo, "checkout", "-q", "main")
    for n in range(later):
        write(repo / "w", f"{n}\n".encode())
        gs(repo, "-m", f"w{n}")
    return report


def snapshots_of(repo: Path, *contents: bytes) -> None:
    """A snapshot of *repo* (`git snapshot create`) after each of *contents* written to
    x.txt, in turn."""
    for data in contents:
        write(repo / "x.txt", data)
        gs(repo, "create")


def lose_index(store_dir: Path) -> None:
    """The store's index lost: its SQLite files deleted (`repair` rebuilds it from the
    packs)."""
    for name in os.listdir(store_dir):
        if name.startswith("index.sqlite"):
            os.unlink(store_dir / name)


def env_tracked_on_b(repo: Path, data: bytes) -> Path:
    """*.env ignored on main; branch b tracks x.env (*data*, 644); the hooks installed."""
    commit(repo, ".gitignore", b"*.env\n")
    git(repo, "switch", "-q", "-c", "b")
    commit(repo, "x.env", data, force=True)
    git(repo, "switch", "-q", "main")
    install(repo)
    return repo


def clone_with_hooks(remote: Path, work: Path) -> Path:
    """``git clone REMOTE WORK``, its committer set and the hooks installed; returns *work*."""
    git(work.parent, "clone", "-q", str(remote), str(work))
    git(work, "config", "user.name", "t")
    git(work, "config", "user.email", "t@x")
    install(work)
    return work


def after_pre_restore(monkeypatch: pytest.MonkeyPatch, then: Callable[[], object]) -> None:
    """worktree.take works as ever (in this process: a test calling the CLI's main or the
    API); *then* runs once each time a pre-restore snapshot returns, before the restore
    writes anything: where a concurrent writer's change lands between the two."""
    from git_snapshot import worktree

    real = worktree.take

    def take(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        if kwargs.get("trigger") == "pre-restore":
            then()
        return out

    monkeypatch.setattr(worktree, "take", take)


def topic_in_linked_worktree(repo: Path, files: Mapping[str, str]) -> Path:
    """*repo*, hooked, with *files* (a.txt among them) committed (init); branch topic changes
    a.txt to "topic", main (checked out) to "mainside"; topic checked out in the linked
    worktree ../wt, returned."""
    install(repo)
    for name, text in files.items():
        (repo / name).write_text(text)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "init")
    git(repo, "checkout", "-q", "-b", "topic")
    (repo / "a.txt").write_text("topic\n")
    git(repo, "commit", "-q", "-am", "t1")
    git(repo, "checkout", "-q", "main")
    (repo / "a.txt").write_text("mainside\n")
    git(repo, "commit", "-q", "-am", "m1")
    wt = repo.parent / "wt"
    git(repo, "worktree", "add", "-q", str(wt), "topic")
    return wt
