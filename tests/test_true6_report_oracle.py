"""TRUE6 (session 17): the loss reports of generated git sequences, judged by a model.

test_red14_git_sequences.GitMachine drives real git with the hooks installed the real way and
checks that every snapshot is byte-exact; this machine runs the same rules (no watcher, no
remote, no linked worktree) and, after every step, reads the new entries of ``git snapshot
losses --json`` and judges them against the trees it saw:

(a) every file (or symlink) whose content the step destroyed, that git cannot give back
    (HEAD before and after, ORIG_HEAD, MERGE_HEAD, the index, the stash entries) and that the
    snapshot the step's hook compares with holds exactly, is named;
(b) each named path's snapshot holds the claimed version: ``exact`` -> the bytes the worktree
    had right before the step; else a version the model saw at that path before the step
    (never one written later, never another path's);
(c) nothing git can give back, or still in the worktree, is named (a false alarm);
(d) the restore command the step printed, run as printed (``--to`` a fresh folder added),
    writes the named version of every named path.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from clihelpers import Ran
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import rule
from hypothesis.stateful import run_state_machine_as_test
from reliabilityhelpers import Tree
from reliabilityhelpers import one_line
from reliabilityhelpers import worktree_tree
from storehelpers import Seen
from storehelpers import scan
from test_red14_git_sequences import GitMachine

pytestmark = pytest.mark.slow

PRINTED = re.compile(r"restore with: git snapshot restore (\d+) (.*)\)$")
# steps whose hook (or `run`) must report what they destroyed: (a) holds for them
EDITS = ("tracked", "untracked", "ignored", "ignored", "dir", "link", "mode")
REPORTING = ("checkout", "merge", "rebase", "git", "rm")


def _version(s: Seen) -> tuple[str, bytes]:
    return (s.kind, s.data)


def _git_entry(s: Seen) -> tuple[str, str] | None:
    """(mode, blob id) as git would hold *s*; None for what git never holds (a folder)."""
    if s.kind == "link":
        mode = "120000"
    elif s.kind == "file":
        mode = "100755" if s.mode & 0o100 else "100644"
    else:
        return None
    blob = hashlib.sha1(b"blob %d\0" % len(s.data) + s.data).hexdigest()  # git's id
    return (mode, blob)


class OracleMachine(GitMachine):
    checked: dict[str, int] = {}  # noqa: RUF012 (entries judged, by step: every example)

    def __init__(self) -> None:
        super().__init__()
        self.printed: list[tuple[int, list[str]]] = []  # every restore command printed
        self.seen: dict[bytes, set[tuple[str, bytes]]] = {}  # every version seen at a path
        self.entries = 0  # loss entries judged so far
        self.state = self._state()
        run = self.sb.run

        def said(cwd: Path, *args: str, **kw: Any) -> Ran:  # keeps what it printed
            ran = run(cwd, *args, **kw)
            self._printed(ran.out + ran.err)
            return ran

        self.sb.run = said  # type: ignore[method-assign]
        self._saw(worktree_tree(self.wt))

    # rules this oracle does not judge (GitMachine covers them): plain methods, not rules
    def push(self) -> None:
        pass

    def worktree(self, remove: bool) -> None:
        pass

    @rule(edits=st.lists(st.tuples(st.sampled_from(EDITS), st.integers(0, 50)), max_size=6))
    def edit_many(self, edits: list[tuple[str, int]]) -> None:
        """Several edits in one step: uncommitted content for the next command to destroy."""
        for op, n in edits:
            self.edit(op, n)

    @rule(n=st.integers(0, 3))
    def track_ignored(self, n: int) -> None:
        """An ignored file committed with ``add -f`` on this branch: a switch from a branch
        where it is ignored (and present) back to this one overwrites it without a word from
        git."""
        before = worktree_tree(self.wt)
        name = f"i{n}.log"
        if not (self.wt / name).exists():
            (self.wt / name).write_bytes(self.rnd.randbytes(40))
            before = worktree_tree(self.wt)
        self.git("add", "-f", name)
        self.git("commit", "-q", "-m", f"track {name}")
        self._settle("commit", before)

    @rule()
    def discard(self) -> None:
        """``git checkout -- .``: its post-checkout hook reports the discarded edits an
        earlier snapshot holds."""
        before = worktree_tree(self.wt)
        self.git("checkout", "--", ".")
        self._settle("checkout -- .", before)

    # -- what the steps printed and the model saw ---------------------------------------------

    def git(self, *args: str) -> subprocess.CompletedProcess[str]:
        ran = super().git(*args)
        self._printed(ran.stdout + ran.stderr)
        return ran

    def _printed(self, text: str) -> None:
        for line in text.splitlines():
            m = PRINTED.search(line.strip())
            if m:
                self.printed.append((int(m.group(1)), shlex.split(m.group(2))))

    def _saw(self, tree: Tree) -> None:
        for p, s in tree.items():
            self.seen.setdefault(p, set()).add(_version(s))

    def _rev(self, rev: str) -> str | None:
        ran = subprocess.run(
            ["git", "rev-parse", "-q", "--verify", f"{rev}^{{commit}}"],
            cwd=self.wt,
            env=self.sb.env,
            capture_output=True,
            text=True,
        )
        return ran.stdout.strip() or None

    def _state(self) -> list[str]:
        """HEAD and the commits (AUTO_MERGE: a tree) git's state files name now: what git
        can give back while they are there (``merge --abort`` removes them)."""
        names = ["ORIG_HEAD", "MERGE_HEAD", "CHERRY_PICK_HEAD", "REBASE_HEAD"]
        git_dir = self.wt / ".git"
        if (git_dir / "MERGE_HEAD").exists() or (git_dir / "REBASE_HEAD").exists():
            names.append("AUTO_MERGE")  # the conflicted files as git wrote them
        out = [self._rev("HEAD")]
        for name in names:
            f = git_dir / name
            out += f.read_text().split()[:1] if f.exists() else []
        return [o for o in out if o]

    def _git_holds(self, path: bytes, before: list[str]) -> set[tuple[str, str]]:
        """(mode, blob) of *path* in what git can give back: *before* (the state before the
        step), the state now, the stash entries with their parents, the index."""
        revs = before + self._state()
        stashes = self.git("stash", "list", "--format=%H %P").stdout.split()
        revs += stashes + [f"{s}^3" for s in stashes]
        out: set[tuple[str, str]] = set()
        for rev in filter(None, revs):
            ran = self.git("ls-tree", rev, "--", os.fsdecode(path))
            for line in ran.stdout.splitlines():
                mode, _, rest = line.partition(" ")
                blob = rest.split()[1] if len(rest.split()) > 1 else ""
                out.add((mode, blob))
        for line in self.git("ls-files", "-s", "--", os.fsdecode(path)).stdout.splitlines():
            mode, blob = line.split()[:2]
            out.add((mode, blob))
        return out

    def _entries(self) -> list[dict[str, Any]]:
        ran = self.sb.run(self.wt, "losses", "--json")
        assert ran.rc == 0, f"losses --json: {one_line(ran)}"
        items: list[dict[str, Any]] = json.loads(ran.out or "[]")
        return items

    # -- the oracle ------------------------------------------------------------------------

    def _settle(self, what: str, before: Tree, guarded: bool = False, many: bool = False) -> None:
        known = set(self.model)
        super()._settle(what, before, guarded, many)
        after = worktree_tree(self.wt)
        head_before, self.state = self.state, self._state()
        items = self._entries()
        new, self.entries = items[self.entries :], len(items)
        named: set[bytes] = set()
        if os.environ.get("TRUE6_TRACE"):
            print(f"TRACE {what}: {len(new)} new entries", flush=True)
        for entry in new:
            self.checked[what.split()[0]] = self.checked.get(what.split()[0], 0) + 1
            named |= self._judge(what, entry, before, after, head_before)
        if what.split()[0] in REPORTING:
            self._all_named(what, before, after, known, named, head_before)
        self._saw(after)

    def _judge(
        self, what: str, entry: dict[str, Any], before: Tree, after: Tree, head: list[str]
    ) -> set[bytes]:
        """(b), (c), (d) for one new loss entry; the paths it names."""
        sid = entry["snapshot"]
        assert sid in self.model, f"{what}: entry names snapshot {sid}, not one of this worktree"
        held = self.model[sid]
        ours = what.split()[0] in entry["command"] or entry["command"] in what
        lost = [x for x in entry["lost"] if x.get("type", "file") != "dir"]
        for x in lost:
            p = os.fsencode(x["path"])
            assert p in held, f"{what}: {p!r} named in snapshot {sid}, which does not hold it"
            got = held[p]
            # (b) the claimed version
            if entry["exact"] and ours:
                assert p in before and _version(before[p]) == _version(got), (
                    f"{what}: {p!r} said exact in snapshot {sid}, but it holds another version "
                    f"than the worktree's before the command"
                )
            else:
                assert _version(got) in self.seen.get(p, set()) | (
                    {_version(before[p])} if p in before else set()
                ), f"{what}: {p!r}: snapshot {sid}'s version was never seen at that path"
            # (c) no false alarm: not in the worktree still, not in git
            if x["status"] != "mode":
                assert p not in after or _version(after[p]) != _version(got), (
                    f"{what}: {p!r} named lost ({x['status']}) but the worktree still holds "
                    f"snapshot {sid}'s version"
                )
            ge = _git_entry(got)
            assert ge is None or ge not in self._git_holds(p, head), (
                f"{what}: {p!r} named lost but git holds snapshot {sid}'s version ({ge})"
            )
        if lost:
            self._restores(what, entry, held)
        return {os.fsencode(x["path"]) for x in entry["lost"]} | {
            os.fsencode(x["path"]) for x in entry.get("unsaved", [])
        }

    def _restores(self, what: str, entry: dict[str, Any], held: Tree) -> None:
        """(d) the printed restore command, run as printed into a fresh folder, writes the
        named version of every named path."""
        sid = entry["snapshot"]
        cmds = [args for s, args in self.printed if s == sid and args == entry["restore"]]
        assert cmds, f"{what}: no printed restore command for {entry['restore']} from {sid}"
        target = self.sb.fresh_dir("d")
        ran = self.sb.run(self.wt, "restore", str(sid), *cmds[-1], "--to", str(target))
        assert ran.rc == 0, f"{what}: the printed restore: {one_line(ran)}"
        got = scan(target)
        shutil.rmtree(target, ignore_errors=True)
        for x in entry["lost"]:
            p = os.fsencode(x["path"])
            if x.get("type", "file") != "dir":
                assert p in got and _version(got[p]) == _version(held[p]), (
                    f"{what}: the printed restore does not bring {p!r} back from {sid}"
                )

    def _all_named(
        self,
        what: str,
        before: Tree,
        after: Tree,
        known: set[int],
        named: set[bytes],
        head: list[str],
    ) -> None:
        """(a) what the step destroyed that git lacks is named when the snapshot its hook
        compares with (the newest before the step, or one the step took first) holds a
        version of it that git lacks and the worktree no longer has: exactly that version, or
        an earlier one ("an earlier version ... is in snapshot N")."""
        git_dir = self.wt / ".git"
        if (git_dir / "MERGE_HEAD").exists() or (git_dir / "rebase-merge").exists():
            return  # stopped: reported by the next hook
        holders = [self.model[max(known)]] if known else []
        holders += [t for s, t in self.model.items() if s not in known and t == before]
        for p, s in before.items():
            if s.kind not in ("file", "link") or p in named:
                continue
            if p in after and _version(after[p]) == _version(s):
                continue  # not destroyed (a mode change alone is not judged here)
            blobs = {blob for _, blob in self._git_holds(p, head)}

            def lost(v: Seen, p: bytes = p, blobs: set[str] = blobs) -> bool:
                ge = _git_entry(v)
                gone = p not in after or _version(after[p]) != _version(v)
                return ge is not None and ge[1] not in blobs and gone

            if lost(s) and any(p in t and lost(t[p]) for t in holders):
                raise AssertionError(
                    f"{what}: destroyed {p!r} (a version of it in the compared snapshot, not "
                    f"in git) is not named; named: {sorted(named)[:5]}"
                )


def test_loss_reports_name_the_right_versions(tmp_path: Path) -> None:
    OracleMachine.base = tmp_path
    run_state_machine_as_test(
        OracleMachine,
        settings=settings(
            max_examples=int(os.environ.get("TRUE6_EXAMPLES", "3")),
            stateful_step_count=int(os.environ.get("TRUE6_STEPS", "16")),
            deadline=None,
            derandomize="TRUE6_RANDOM" not in os.environ,  # (set: a hunt with new sequences)
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        ),
    )
    print("loss entries judged by step:", OracleMachine.checked)


def test_the_oracle_judges_hook_reports(tmp_path: Path) -> None:
    """The cases the random campaigns meet rarely, one by one: an ignored file a switch
    overwrites silently (an earlier version in a snapshot), edits ``checkout -- .`` discards,
    a forced switch and ``reset --hard`` through run (exact)."""
    OracleMachine.base = tmp_path
    m = OracleMachine()
    try:
        m.track_ignored(0)
        m.switch("b1", False)
        m.edit("ignored", 0)
        m.snapshot()
        m.edit("ignored", 4)
        m.switch("main", False)  # i0.log: the version snapshot holds, named
        m.edit("tracked", 5)
        m.snapshot()
        m.edit("tracked", 5)
        m.discard()
        m.edit_many([("tracked", 1), ("untracked", 2), ("ignored", 3)])
        m.switch("b2", True)
        m.edit_many([("tracked", 7), ("dir", 1), ("link", 2)])
        m.destroy("reset", 0)
        m.destroy("clean", 0)
        assert OracleMachine.checked.get("checkout", 0) >= 3, OracleMachine.checked
        assert OracleMachine.checked.get("git", 0) >= 1, OracleMachine.checked
    finally:
        m.teardown()


def test_the_oracle_judges_merge_and_rebase_reports(tmp_path: Path) -> None:
    """A merge and a rebase that bring in a file ignored here, overwriting the ignored
    copy: each post-hook names it, from the snapshot its pre-hook took (exact)."""
    OracleMachine.base = tmp_path
    m = OracleMachine()
    try:
        m.switch("b1", False)
        m.track_ignored(1)
        m.track_ignored(2)
        m.switch("main", False)
        m.edit("ignored", 1)
        m.snapshot()
        m.edit("ignored", 5)  # i1.log: newer than that snapshot
        m.merge("b1")
        m.switch("b2", False)
        m.edit("ignored", 2)
        m.rebase("b1")
        assert OracleMachine.checked.get("merge", 0) >= 1, OracleMachine.checked
        assert OracleMachine.checked.get("rebase", 0) >= 1, OracleMachine.checked
    finally:
        m.teardown()


def test_the_oracle_judges_a_stopped_merge_and_its_abort(tmp_path: Path) -> None:
    """A merge stopped by a conflict that overwrote an ignored file (reported by the next
    git-snapshot command, from the snapshot before it), then ``merge --abort`` through run:
    the conflicted file as git wrote it (AUTO_MERGE holds it) is no loss."""
    OracleMachine.base = tmp_path
    m = OracleMachine()
    try:
        (m.wt / "a.txt").write_bytes(b"base\n")
        m.commit()
        m.git("branch", "-f", "b1", "main")
        m.switch("b1", False)
        (m.wt / "a.txt").write_bytes(b"A1\n")
        m.commit()
        m.track_ignored(3)
        m.switch("main", False)
        (m.wt / "a.txt").write_bytes(b"A2\n")
        m.commit()
        (m.wt / "i3.log").write_bytes(b"mine, ignored\n")
        m.snapshot()
        m.merge("b1")  # stops on a.txt; aborted through run
        assert OracleMachine.checked.get("merge", 0) >= 1, OracleMachine.checked
    finally:
        m.teardown()
