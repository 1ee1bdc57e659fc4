"""Red team (session 16): generated sequences of git operations in a repository whose hooks
are installed the real way (``git snapshot install``): edits of tracked, untracked and ignored
files, commits, branch switches (also forced), merges (with conflicts, aborted through
``git snapshot run``), stash and pop, ``reset --hard``, ``clean -fdx`` and ``rm -rf`` of a
folder (through ``run``), plain snapshots, push to a file:// remote and a pull on another
machine. After each step every snapshot it made must hold exactly the worktree as it was
before or after the step (bytes, mode, symlink target, mtime), a ``run``-guarded step's
"before" must be held by a snapshot, and at the end every snapshot restores byte-exact, here
and from the other machine's store, and verify is clean. (reliabilityhelpers.ModelMachine
covers plain snapshots with kills, damage, repair and prune; this one the git side.)"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine
from hypothesis.stateful import precondition
from hypothesis.stateful import rule
from hypothesis.stateful import run_state_machine_as_test
from reliabilityhelpers import Sandbox
from reliabilityhelpers import Tree
from reliabilityhelpers import crashed
from reliabilityhelpers import one_line
from reliabilityhelpers import worktree_tree
from storehelpers import diff
from storehelpers import scan

pytestmark = pytest.mark.slow

BRANCHES = ("main", "b1", "b2")


class GitMachine(RuleBasedStateMachine):
    base: Path = Path("/nonexistent")
    made: dict[str, int] = {}  # noqa: RUF012 (snapshots made, by step: shared by every example)

    def __init__(self) -> None:
        super().__init__()
        root = Path(tempfile.mkdtemp(dir=self.base))
        self.sb = Sandbox(root)
        path = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
        self.sb.env.update(PATH=path, GIT_SNAPSHOT_WATCH="0")
        self.wt = self.sb.new_repo("wt", files=6, seed=1)
        for b in BRANCHES[1:]:
            self.sb.git(self.wt, "branch", b)
        before = worktree_tree(self.wt)
        ran = self.sb.run(self.wt, "install")
        assert ran.rc == 0, ran.err
        self.model: dict[int, Tree] = {}
        GitMachine._settle(self, "install", before)  # (its first snapshot: no watcher takes one)
        self.rnd = random.Random(0)
        self.n = 0
        self.remote = f"file://{root}/remote"
        self.pushed = False

    # -- helpers ---------------------------------------------------------------------------

    def git(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", *args], cwd=self.wt, env=self.sb.env, capture_output=True, text=True
        )

    def _restored(self, sid: int) -> Tree | None:
        ran, target = self.sb.restore_to(self.wt, sid)
        assert not crashed(ran), f"restore {sid}: {one_line(ran)}"
        got = scan(target) if ran.rc == 0 else None
        shutil.rmtree(target, ignore_errors=True)
        return got

    def _settle(self, what: str, before: Tree, guarded: bool = False, many: bool = False) -> None:
        """The snapshots *what* made hold the worktree as it was before or after it (with
        *many*, a step of several hooks: at most one may hold a state between)."""
        after = worktree_tree(self.wt)
        ids = self.sb.listed(self.wt)
        assert ids is not None, f"list failed after {what}"
        assert set(self.model) <= set(ids), f"{what} lost snapshots {set(self.model) - set(ids)}"
        for sid in sorted(set(ids) - set(self.model)):
            self.made[what.split()[0]] = self.made.get(what.split()[0], 0) + 1
            got = self._restored(sid)
            assert got is not None, f"snapshot {sid} (after {what}) does not restore"
            if got == before:
                self.model[sid] = before
            elif got == after:
                self.model[sid] = after
            elif many:
                self.model[sid] = got
                many = False
            else:
                raise AssertionError(
                    f"snapshot {sid} of {what} holds neither the worktree before "
                    f"({diff(before, got)[:3]}) nor after ({diff(after, got)[:3]})"
                )
        if guarded:  # `run` snapshots first: the state it destroys is held
            assert any(t == before for t in self.model.values()), f"{what}: before not held"

    # -- rules ---------------------------------------------------------------------------

    @rule(
        op=st.sampled_from(["tracked", "untracked", "ignored", "delete", "dir", "link", "mode"]),
        n=st.integers(0, 50),
    )
    def edit(self, op: str, n: int) -> None:
        files = sorted(
            p
            for p in self.wt.rglob("*")
            if ".git" not in p.relative_to(self.wt).parts and p.is_file() and not p.is_symlink()
        )
        self.n += 1
        data = self.rnd.randbytes(n * 37 + 1)
        if op == "tracked" and files:
            files[n % len(files)].write_bytes(data)
        elif op == "untracked":
            (self.wt / f"u{self.n}.txt").write_bytes(data)
        elif op == "ignored":
            (self.wt / f"i{n % 4}.log").write_bytes(data)
        elif op == "delete" and files:
            files[n % len(files)].unlink()
        elif op == "dir":
            d = self.wt / f"d{n % 3}" / f"e{n % 2}"
            d.mkdir(parents=True, exist_ok=True)
            (d / f"f{self.n}").write_bytes(data)
        elif op == "link":
            link = self.wt / f"ln{n % 3}"
            if not os.path.lexists(link):
                link.symlink_to(files[n % len(files)].name if files and n % 2 else "/nowhere")
        elif op == "mode" and files:
            files[n % len(files)].chmod(0o600 + (n % 2) * 0o155)

    @rule()
    def snapshot(self) -> None:
        before = worktree_tree(self.wt)
        ran = self.sb.run(self.wt, "create")
        assert ran.rc == 0 and not crashed(ran), f"create: {one_line(ran)}"
        self._settle("create", before)

    @rule()
    def commit(self) -> None:
        before = worktree_tree(self.wt)
        self.git("add", "-A")
        ran = self.git("commit", "-q", "-m", f"c{self.n}")
        assert "Traceback" not in ran.stderr, ran.stderr
        self._settle("commit", before)

    @rule(branch=st.sampled_from(BRANCHES), force=st.booleans())
    def switch(self, branch: str, force: bool) -> None:
        before = worktree_tree(self.wt)
        if force:
            ran = self.sb.run(self.wt, "run", "--", "git", "checkout", "-q", "-f", branch)
            assert not crashed(ran), f"run checkout -f: {one_line(ran)}"
        else:
            self.git("checkout", "-q", branch)  # refused over local changes: fine
        self._settle(f"checkout{' -f' if force else ''} {branch}", before, guarded=force)

    @rule(branch=st.sampled_from(BRANCHES))
    def merge(self, branch: str) -> None:
        before = worktree_tree(self.wt)
        ran = self.git("merge", "-q", "--no-edit", branch)
        self._settle(f"merge {branch}", before)
        if ran.returncode != 0 and (self.wt / ".git" / "MERGE_HEAD").exists():
            self._guarded("git", "merge", "--abort")

    @rule(pop=st.booleans())
    def stash(self, pop: bool) -> None:
        before = worktree_tree(self.wt)
        self.git("stash", "-u", "-q")
        self._settle("stash -u", before)
        if pop:
            before = worktree_tree(self.wt)
            self.git("stash", "pop", "-q")
            self._settle("stash pop", before)

    @rule(cmd=st.sampled_from(["reset", "clean", "rmrf"]), n=st.integers(0, 5))
    def destroy(self, cmd: str, n: int) -> None:
        argv = {
            "reset": ["git", "reset", "-q", "--hard"],
            "clean": ["git", "clean", "-q", "-fdx"],
            "rmrf": ["rm", "-rf", f"d{n % 3}"],
        }[cmd]
        self._guarded(*argv)

    def _guarded(self, *argv: str) -> None:
        """*argv* through ``git snapshot run --``: the state it destroys is held."""
        before = worktree_tree(self.wt)
        ran = self.sb.run(self.wt, "run", "--", *argv)
        assert not crashed(ran), f"run {' '.join(argv)}: {one_line(ran)}"
        self._settle(" ".join(argv), before, guarded=True)

    @rule(branch=st.sampled_from(BRANCHES[1:]))
    def rebase(self, branch: str) -> None:
        """A rebase onto another branch (its pre-rebase hook); a stop by a conflict is aborted
        through run."""
        before = worktree_tree(self.wt)
        ran = self.git("rebase", "-q", branch)
        self._settle(f"rebase {branch}", before, many=True)
        if ran.returncode != 0 and (self.wt / ".git" / "rebase-merge").exists():
            self._guarded("git", "rebase", "--abort")

    @rule(remove=st.booleans())
    def worktree(self, remove: bool) -> None:
        """A linked worktree added, given a file git ignores and one it does not know, and
        removed with --force through run: its snapshot holds both."""
        main = worktree_tree(self.wt)  # (run snapshots this worktree too)
        other = self.sb.root / f"lt{self.n}"
        self.n += 1
        if self.git("worktree", "add", "-q", "--detach", str(other)).returncode != 0:
            return
        fresh = worktree_tree(other)  # (its post-checkout hook's snapshot holds this)
        (other / "mine.log").write_bytes(self.rnd.randbytes(100))
        (other / "new.txt").write_bytes(self.rnd.randbytes(50))
        held = worktree_tree(other)
        if remove:
            cmd = ["run", "--", "git", "worktree", "remove", "--force", str(other)]
            ran = self.sb.run(self.wt, *cmd)
            assert not crashed(ran), one_line(ran)
            assert not other.exists(), one_line(ran)
            listed = self.sb.run(other.parent, "list", "--all", "--json")
            assert listed.rc == 0 and str(other) in listed.out, one_line(listed)
        else:
            ran = self.sb.run(other, "create")
            assert ran.rc == 0, one_line(ran)
            target = self.sb.fresh_dir("lt")
            ran = self.sb.run(other, "restore", "latest", "--to", str(target))
            got = scan(target)
            assert ran.rc == 0 and not diff(held, got), f"linked worktree: {diff(held, got)}"
            shutil.rmtree(other)
            self.git("worktree", "prune")
        self._settle_linked(main, fresh, held)

    def _settle_linked(self, main: Tree, fresh: Tree, held: Tree) -> None:
        """The linked worktree's snapshots (the repository's, so listed here too) hold it as
        checked out or as it was given its two files (and run's, of this worktree, this one
        as it is): kept in the model with that tree."""
        ids = self.sb.listed(self.wt)
        assert ids is not None
        for sid in sorted(set(ids) - set(self.model)):
            got = self._restored(sid)
            assert got in (main, fresh, held), (
                f"linked worktree's snapshot {sid}: {diff(held, got or {})}"
            )
            assert got is not None
            self.model[sid] = got

    @precondition(lambda self: self.model)
    @rule(n=st.integers(0, 10**6), delete=st.booleans())
    def restore_in_place(self, n: int, delete: bool) -> None:
        """A whole restore in place: a pre-restore snapshot holds what it overwrites, and with
        --delete the worktree is the snapshot again, exactly."""
        sid = sorted(self.model)[n % len(self.model)]
        before = worktree_tree(self.wt)
        ran = self.sb.run(self.wt, "restore", str(sid), *(["--delete"] if delete else []))
        assert ran.rc == 0 and not crashed(ran), f"restore {sid}: {one_line(ran)}"
        now = worktree_tree(self.wt)
        if delete:
            assert not diff(self.model[sid], now), (
                f"restore {sid} --delete: {diff(self.model[sid], now)}"
            )
        else:
            wrong = {
                k: v for k, v in self.model[sid].items() if now.get(k) != v and v.kind != "dir"
            }
            assert not wrong, f"restore {sid}: {sorted(wrong)[:3]}"
        self._settle(f"restore {sid}", before, guarded=before != self.model[sid])

    @rule()
    def undo(self) -> None:
        before = worktree_tree(self.wt)
        ran = self.sb.run(self.wt, "undo")
        assert ran.rc in (0, 1) and not crashed(ran), f"undo: {one_line(ran)}"
        self._settle("undo", before)

    @precondition(lambda self: self.model)
    @rule()
    def push(self) -> None:
        if not self.pushed:
            ran = self.sb.run(self.wt, "remote", "add", "r", self.remote)
            assert ran.rc == 0, one_line(ran)
            self.pushed = True
        ran = self.sb.run(self.wt, "push", "r")
        assert ran.rc == 0 and not crashed(ran), f"push: {one_line(ran)}"

    def teardown(self) -> None:
        try:
            for sid, tree in sorted(self.model.items()):
                got = self._restored(sid)
                assert got is not None and not diff(tree, got), f"{sid}: {diff(tree, got or {})}"
            ran = self.sb.run(self.wt, "verify", "--read-data")
            assert ran.rc == 0, f"verify: {one_line(ran)}"
            if self.pushed:
                self._other_machine()
        finally:
            shutil.rmtree(self.sb.root, ignore_errors=True)

    def _other_machine(self) -> None:
        """Every pushed snapshot restores byte-exact from a second store that pulled them."""
        ran = self.sb.run(self.wt, "push", "r")
        assert ran.rc == 0, f"push: {one_line(ran)}"
        other = Sandbox(self.sb.root / "other")
        other.env.update(XDG_CONFIG_HOME=self.sb.env.get("XDG_CONFIG_HOME", ""))
        key = Path(self.sb.env["HOME"]) / ".config" / "git-snapshot" / "keys" / "r.key"
        if "XDG_CONFIG_HOME" in self.sb.env:
            key = Path(self.sb.env["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "r.key"
        cwd = self.sb.root
        for args in (["remote", "add", "r", self.remote, "--key", str(key)], ["pull", "r"]):
            ran = other.run(cwd, *args)
            assert ran.rc == 0, f"{args[0]} on the other machine: {one_line(ran)}"
        for sid, tree in sorted(self.model.items()):
            target = other.fresh_dir(f"o{sid}")
            ran = other.run(cwd, "restore", "--repo", "wt", str(sid), "--to", str(target))
            assert ran.rc == 0, f"restore {sid} on the other machine: {one_line(ran)}"
            got = scan(target)
            assert not diff(tree, got), f"{sid} on the other machine: {diff(tree, got)}"


def test_generated_git_sequences_keep_every_version(tmp_path: Path) -> None:
    GitMachine.base = tmp_path
    run_state_machine_as_test(
        GitMachine,
        settings=settings(
            max_examples=int(os.environ.get("RED14_EXAMPLES", "3")),
            stateful_step_count=int(os.environ.get("RED14_STEPS", "14")),
            deadline=None,
            derandomize="RED14_RANDOM" not in os.environ,  # (set: a hunt with new sequences)
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        ),
    )
    print("snapshots made by step:", GitMachine.made)
