"""The 16 everyday loss cases of DESIGN.md and a corpus of harmless sequences, run for real in
three modes: plain hooks (`git snapshot install`), pre-commit, and `git snapshot run --`.

Shared by tests/test_protection.py (which asserts the expected outcome of each) and
bench/protection.py (which writes the table in docs/PROTECTION.md). Holds no tests.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MARK = b"MARKER: only a snapshot has this\n"
COMMITTED = b"from the branch\n"
Setup = Callable[[Path], None]


def sh(cwd: Path, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, check=False)
    if check and res.returncode != 0:
        raise AssertionError(f"{shlex.join(argv)} exited {res.returncode}: {res.stderr}")
    return res


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def commit(r: Path, rel: str, data: bytes, force: bool = False) -> None:
    write(r / rel, data)
    sh(r, "git", "add", *(["-f"] if force else []), rel)
    sh(r, "git", "commit", "-q", "-m", rel)


def branch(r: Path, name: str, rel: str, data: bytes, force: bool = False) -> None:
    """Commit *rel* on a new branch *name* off main, then go back to main."""
    sh(r, "git", "checkout", "-q", "-b", name)
    commit(r, rel, data, force)
    sh(r, "git", "checkout", "-q", "main")


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    setup: Setup  # makes the branches, writes the marker (before the earlier snapshot)
    steps: tuple[tuple[str, ...], ...]  # git commands; the last one destroys the marker
    lost: str  # the path that held MARK
    harmless: bool = False  # nothing is lost: any report is a false alarm


def _ignored_on_branch(r: Path) -> None:
    branch(r, "feature", ".env", COMMITTED, force=True)
    write(r / ".env", MARK)


def _ignored_on_diverged(r: Path) -> None:
    _ignored_on_branch(r)
    commit(r, "main.txt", b"main\n")


def _ignored_dir(r: Path) -> None:
    branch(r, "feature", "build", COMMITTED, force=True)
    write(r / "build" / "out.bin", MARK)


def _untracked(r: Path) -> None:
    write(r / "notes.txt", MARK)


def _edit(r: Path) -> None:
    write(r / "a.txt", MARK)


def _edit_and_branch(r: Path) -> None:
    branch(r, "feature", "f.txt", b"f\n")
    write(r / "a.txt", MARK)


def _conflict(r: Path) -> None:
    branch(r, "feature", "a.txt", b"feature a\n")
    commit(r, "a.txt", b"main a\n")
    sh(r, "git", "merge", "-q", "feature", check=False)
    write(r / "a.txt", MARK)  # the hand resolution


def _upstream(r: Path) -> None:
    """origin/main gains .env; the worktree has an ignored .env."""
    up = r.parent / f"{r.name}-up"
    sh(r.parent, "git", "clone", "-q", str(r), str(up))
    commit(up, ".env", COMMITTED, force=True)
    sh(r, "git", "remote", "add", "origin", str(up))
    sh(r, "git", "fetch", "-q", "origin")
    sh(r, "git", "branch", "-q", "-u", "origin/main")
    write(r / ".env", MARK)


def _edit_then_commit(r: Path) -> None:
    branch(r, "feature", "f.txt", b"f\n")
    write(r / "a.txt", MARK)


def _build_output(r: Path) -> None:
    branch(r, "feature", "f.txt", b"f\n")
    write(r / "build" / "out.bin", MARK)


def _plain(r: Path) -> None:
    branch(r, "feature", "f.txt", b"f\n")


CASES = (
    Case(
        "C1",
        "`checkout B` over an ignored file",
        _ignored_on_branch,
        (("checkout", "-q", "feature"),),
        ".env",
    ),
    Case(
        "C2",
        "`switch B` over an ignored file",
        _ignored_on_branch,
        (("switch", "-q", "feature"),),
        ".env",
    ),
    Case(
        "C3",
        "`merge` (fast-forward) over an ignored file",
        _ignored_on_branch,
        (("merge", "-q", "feature"),),
        ".env",
    ),
    Case(
        "C3b",
        "`merge` (3-way) over an ignored file",
        _ignored_on_diverged,
        (("merge", "-q", "--no-edit", "feature"),),
        ".env",
    ),
    Case(
        "C4",
        "`pull` (fast-forward) over an ignored file",
        _upstream,
        (("pull", "-q", "--no-rebase"),),
        ".env",
    ),
    Case(
        "C4b",
        "`pull --rebase` over an ignored file",
        _upstream,
        (("pull", "-q", "--rebase"),),
        ".env",
    ),
    Case(
        "C6",
        "`checkout B`: an ignored dir replaced by a tracked file",
        _ignored_dir,
        (("checkout", "-q", "feature"),),
        "build/out.bin",
    ),
    Case("C7", "`clean -fdx`", _untracked, (("clean", "-fdxq"),), "notes.txt"),
    Case(
        "C8", "`reset --hard` with an unstaged edit", _edit, (("reset", "-q", "--hard"),), "a.txt"
    ),
    Case("C9", "`checkout -- .`", _edit, (("checkout", "--", "."),), "a.txt"),
    Case("C9b", "`restore .`", _edit, (("restore", "."),), "a.txt"),
    Case(
        "C9c", "`checkout -f B`", _edit_and_branch, (("checkout", "-q", "-f", "feature"),), "a.txt"
    ),
    Case(
        "C9d",
        "`switch --discard-changes B`",
        _edit_and_branch,
        (("switch", "-q", "--discard-changes", "feature"),),
        "a.txt",
    ),
    Case(
        "C10",
        "`stash -u` then `stash drop`",
        _untracked,
        (("stash", "-q", "-u"), ("stash", "drop", "-q")),
        "notes.txt",
    ),
    Case(
        "C11",
        "`merge --abort` after a hand resolution",
        _conflict,
        (("merge", "--abort"),),
        "a.txt",
    ),
    Case(
        "C13",
        "`rebase B` over an ignored file",
        _ignored_on_diverged,
        (("rebase", "-q", "feature"),),
        ".env",
    ),
)

HARMLESS = (
    Case(
        "H1",
        "edit, `checkout -b`, `commit -am`, `merge`",
        _edit_then_commit,
        (
            ("checkout", "-q", "-b", "wip"),
            ("commit", "-q", "-am", "E"),
            ("merge", "-q", "--no-edit", "feature"),
        ),
        "a.txt",
        True,
    ),
    Case(
        "H2",
        "edit, `checkout -b`, `commit -am`, `checkout B`",
        _edit_then_commit,
        (
            ("checkout", "-q", "-b", "wip"),
            ("commit", "-q", "-am", "E"),
            ("checkout", "-q", "feature"),
        ),
        "a.txt",
        True,
    ),
    Case(
        "H3",
        "a build tool rewrites ignored output, then `checkout B`",
        _build_output,
        (("checkout", "-q", "feature"),),
        "build/out.bin",
        True,
    ),
    Case(
        "H4",
        "`stash` then `stash pop`",
        _edit,
        (("stash", "-q"), ("stash", "pop", "-q")),
        "a.txt",
        True,
    ),
    Case(
        "H5",
        "`commit --amend`",
        _edit,
        (("commit", "-q", "-a", "--amend", "--no-edit"),),
        "a.txt",
        True,
    ),
    Case(
        "H6",
        "`merge --squash` and commit",
        _plain,
        (("merge", "-q", "--squash", "feature"), ("commit", "-q", "-m", "sq")),
        "f.txt",
        True,
    ),
    Case(
        "H7",
        "edit, snapshot, edit again, `commit -am`, `checkout B`",
        _edit_then_commit,
        (("commit", "-q", "-am", "E"), ("checkout", "-q", "feature")),
        "a.txt",
        True,
    ),
)

# a loss report, or a guard's report of what `run` saved before CMD dropped it (stash drop)
_REPORT = re.compile(
    r"^git-snapshot: (.+?) (?:destroyed|dropped) .*restore with: (git snapshot restore .+?)\)?$"
)


@dataclass(frozen=True)
class Outcome:
    reported: bool  # a loss report named the marker's path
    exact: bool  # ...from the snapshot taken right before (not "an earlier version")
    recovered: bool  # pasting the printed restore command brought the marker back
    reports: int  # loss report lines printed (a harmless case must print none)
    in_a_snapshot: bool  # some snapshot holds the marker (recoverable by hand; False unread
    # for a harmless case, where nothing is lost: neither the test nor the table asks)


def prepare(r: Path, case: Case) -> None:
    """The repository at *r* (one commit of a.txt and .gitignore) set up for *case*, with an
    earlier snapshot holding the marker (taken as a user's last snapshot would be)."""
    case.setup(r)
    if case.id == "H3":
        sh(r, "git", "snapshot")
        write(r / "build" / "out.bin", b"rebuilt by the user's tool\n")  # not git's work
        return
    if case.id == "H7":  # the snapshot holds an edit the commit does not: committed since
        sh(r, "git", "snapshot")
        write(r / "a.txt", b"edited again, then committed\n")
        return
    sh(r, "git", "snapshot")


def play(r: Path, case: Case, mode: str) -> Outcome:
    """Run *case*'s steps in *mode* (hooks, pre-commit or run) and read what was printed."""
    out = ""
    for i, step in enumerate(case.steps):
        argv = ["git", *step]
        if mode == "run" and i == len(case.steps) - 1:
            argv = ["git", "snapshot", "run", "--", *argv]
        res = sh(r, *argv, check=False)
        out += res.stdout + res.stderr
    # what pre-commit hid (no terminal here) the next git-snapshot command prints, once
    out += sh(r, "git", "snapshot", "list", check=False).stderr
    reports = [m for m in (_REPORT.match(ln) for ln in out.splitlines()) if m]
    named = [m for m in reports if case.lost in m.group(0) or case.lost.split("/")[0] in m.group(0)]
    exact = any("saved in snapshot" in m.group(0) for m in named)  # not "an earlier version"
    recovered = False
    if named and not case.harmless:
        cmd = named[0].group(2)
        sh(r, "sh", "-c", cmd, check=False)
        words = shlex.split(cmd)
        into = r / words[words.index("--to") + 1] if "--to" in words else r
        recovered = (into / case.lost).exists() and (into / case.lost).read_bytes() == MARK
    held = not case.harmless and _in_a_snapshot(r, case.lost)
    return Outcome(bool(named), exact, recovered, len(reports), held)


def _in_a_snapshot(r: Path, rel: str) -> bool:
    """Whether any snapshot of the worktree holds *rel* with the marker."""
    for s in json.loads(sh(r, "git", "snapshot", "list", "--json").stdout or "[]"):
        tar = r.parent / f"{r.name}-{s['id']}.tar"
        sh(r, "git", "snapshot", "export", str(s["id"]), str(tar))
        with tarfile.open(tar) as tf:
            try:
                f = tf.extractfile(rel)
            except KeyError:
                continue
            if f is not None and f.read() == MARK:
                return True
    return False


def expected(case: Case, mode: str) -> tuple[bool, bool]:
    """(reported, exact) this product promises for *case* in *mode*."""
    if case.harmless:
        return False, False
    if mode == "run":
        # C10: `run` snapshots the stash entry `stash drop` is about to destroy
        return True, True
    no_hook = {"C7", "C8", "C10", "C11"}
    if case.id in no_hook:
        return False, False
    # pre-commit cannot run reference-transaction: merges and pulls get the earlier snapshot.
    # Measured, not yet explained: through pre-commit, `pull --rebase` (C4b) is reported from
    # the earlier snapshot too, although `rebase` (C13) is exact.
    pre_hook = {"C3", "C3b", "C4", "C4b", "C13"} if mode == "hooks" else {"C13"}
    return True, case.id in pre_hook
