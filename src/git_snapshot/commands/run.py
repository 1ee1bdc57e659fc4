from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from collections.abc import Sequence

from git_snapshot import gitextra
from git_snapshot import gitrepo
from git_snapshot import guards
from git_snapshot import hooks
from git_snapshot import leftout
from git_snapshot import losses
from git_snapshot import lossrecord
from git_snapshot import lossreport
from git_snapshot import output
from git_snapshot import stashedstore
from git_snapshot import worktree
from git_snapshot.commands.common import repo_at
from git_snapshot.commands.common import report_stopped
from git_snapshot.errors import UserError
from git_snapshot.hooks import RUN_ENV
from git_snapshot.hooks import RUN_FILE
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store import location
from git_snapshot.store.objects import DIR


def cmd_run(
    *, cwd: str, message: str = "", command: Sequence[str] = (), json_out: bool = False
) -> int:
    """With *json_out*, one JSON object after the command's own output: the snapshot, the
    command's exit status and the loss report (null when nothing was lost)."""
    cmd = list(command[1:] if command[:1] == ["--"] else command)
    if not cmd:
        output.err("usage: git snapshot run [-m MSG] -- CMD [ARG...]")
        return 2
    repo = repo_at(cwd)
    # the command as one line with no control character (a name such as $'x\033[2J\n.env' that
    # a glob expanded must not drive the terminal or split the report), pasteable as it reads
    said = " ".join(output.shell_quote(os.fsencode(word), exact=True) for word in cmd)
    # other worktrees, stash entries: snapshotted first, so that this worktree's newest
    # snapshot is its own ('latest', the next hook's loss check), not a stash entry's files
    guarded = guards.protect(repo, cmd, cwd)
    with Store() as store:
        cfg = worktree.settings(repo)
        # the versions only the index holds (staged, then edited): before the worktree's own
        # snapshot, which stays its newest; what CMD throws away of them is named after it
        staged = _save_staged(store, repo, message or said)
        res = worktree.take(store, repo, trigger="run", message=message or said, cfg=cfg)
        lossrecord.note_checked(store, repo, res.snapshot.id, "run")
        # (the staged versions' snapshot, an older one named again too, never forgotten here:
        # the worktree's own, its newest, never is)
        worktree.apply_retention(store, repo, cfg, staged.taken if staged else None)
        store_path = store.path
    snap = res.snapshot
    # what git could give back before the command: a merge --abort forgets MERGE_HEAD
    revs = gitrepo.state_commits(repo)
    # (an alias of git clean too: run as git would expand it, with the store kept out)
    kept, change = guards.keep_store_out(guarded.command, cwd, store_path)
    cmd = kept if change is not None else cmd
    output.err(f"snapshot {snap.id} taken before: {said}{f' ({change})' if change else ''}")
    if guarded.unknown:  # (the snapshot is this worktree's: not of what the alias does)
        output.err(guarded.unknown)
    for line in output.snapshot_warnings(snap):  # what it could not save, before CMD runs
        output.err(line)
    # of what it left out: the edits (told if CMD drops them), and what holds HEAD's version
    edits, clean = leftout.left_out_edits(repo, snap)
    mark = _mark(repo, snap, cmd)  # (to find what its moves of HEAD wrote at what it left out)
    told = _told_file(repo)  # where the hooks say which autostash of git's they saw
    try:
        rc = _call(cmd, cwd, told or "1")
        stashes = _autostashes(repo, told)
        with contextlib.suppress(OSError):  # a run inside a run: the outer one is told too
            hooks.tell_run(repo, os.environ.get(RUN_ENV, ""), stashes)
    finally:
        if told:
            with contextlib.suppress(OSError):
                os.unlink(told)
    if not location.is_store(store_path):  # (opening it again would make an empty one there)
        stashed = stashedstore.stashed_in(store_path)  # (git stash -u/-a: its entry holds it)
        output.err(
            f"{said} deleted the snapshot store {output.display(os.fsencode(store_path))} "
            f"itself, snapshot {snap.id} and every other snapshot of every repository with it: "
            f"nothing can be restored from it"
            if stashed is None
            else f"{said} took the snapshot store {output.display(os.fsencode(store_path))}, "
            f"snapshot {snap.id} and every other snapshot of every repository with it, into "
            f"its entry {stashed[1]}; bring it back with: git -C "
            f"{output.shell_quote(os.fsencode(stashed[0]))} stash pop {stashed[1]}"
        )
        return rc
    here = _shell_dir()  # where the user is: their pasted commands run there
    # a rebase stopped before CMD (its note held back while it was in progress) that CMD
    # ended (`rebase --abort`): its loss came first, so its report does, in the log too, and
    # `undo` takes CMD's as the latest (RED40 A finding 1: it took the rebase's); less what
    # it left to CMD's report, which names it from *snap*: `run -- git rebase --continue`
    # named the later picks' loss twice (RED41 R2 F1)
    report_stopped(repo, here, ran=snap)
    dropped = guards.report(repo, guarded, cwd, here)  # what of those CMD did destroy
    if dropped:
        with Store() as store:
            for d in dropped:
                lossrecord.append(store, repo, d.entry)  # listed by losses, undone by undo
    if not os.path.isdir(repo.toplevel):  # CMD removed this very worktree: nothing to compare
        if staged is not None:  # (its index went with it: every staged version it held)
            every = [p for p, _, _ in staged.blobs]
            gone = guards.staged_report(repo, staged, every, said, here, time.time())
            with Store() as store:
                lossrecord.append(store, repo, gone.entry)
            dropped = [*dropped, gone]
        for d in dropped:
            print(d.line, file=sys.stderr, flush=True)
        top = output.shell_quote(os.fsencode(repo.toplevel))
        output.err(
            f"the worktree {output.display(os.fsencode(repo.toplevel))} is gone; its files (not "
            f"its .git) are in snapshot {snap.id}; restore with: git snapshot restore --repo "
            f"{top} {snap.id} --to {top}"
        )
        return rc
    now = time.time()  # (the moment of CMD's reports: `undo` puts back all of them)
    thrown = _staged_thrown(repo, staged, said, here, now)
    if thrown is not None:
        with Store() as store:
            lossrecord.append(store, repo, thrown.entry)
    try:
        report = _report(repo, snap, said, revs, edits, clean, stashes, mark, now)
    except UserError as exc:  # the command's status still counts
        output.err(f"could not check what the command destroyed: {exc}")
        if thrown is not None:
            print(thrown.line, file=sys.stderr, flush=True)
        return rc
    if json_out:
        output.print_json(
            {
                "snapshot": snap.id,
                "command": cmd,
                "exit_code": rc,
                "losses": report.as_json() if report else None,
                "guarded": [d.line for d in dropped],
                "staged": thrown.line if thrown is not None else None,
            }
        )
        return rc
    # on stderr, as the hooks' and the line before CMD: stdout is CMD's (run -- CMD > out
    # wrote the report into the user's file: RED30); paths as typed where the user is
    lines = [d.line for d in dropped]
    lines += report.lines(repo, here) if report else []
    for line in [*lines, *([thrown.line] if thrown is not None else [])]:
        print(line, file=sys.stderr, flush=True)
    return rc


def _save_staged(store: Store, repo: gitrepo.Repo, what: str) -> guards.StagedSaved | None:
    """guards.save_staged, before CMD: a version that cannot be saved is said, not skipped."""
    try:
        return guards.save_staged(store, repo, f"{what} (staged versions only the index held)")
    except (gitrepo.GitError, UserError) as exc:
        output.err(f"could not save the staged versions only the index holds: {exc}")
        return None


def _staged_thrown(
    repo: gitrepo.Repo, staged: guards.StagedSaved | None, said: str, here: str, now: float
) -> guards.Dropped | None:
    """The line and loss-log entry of the staged versions *staged* held that CMD threw away
    (guards.staged_thrown); None when it threw none away. Not known: the line says where
    they are."""
    if staged is None:
        return None
    try:
        paths = guards.staged_thrown(repo, staged)
    except (gitrepo.GitError, UserError, OSError) as exc:
        output.err(
            f"could not check which staged versions {said} threw away ({exc}): they are in "
            f"snapshot {staged.snapshot}"
        )
        return None
    return guards.staged_report(repo, staged, paths, said, here, now) if paths else None


def _shell_dir() -> str:
    """Where the user is: this process's directory (``-C`` is not a chdir: CMD ran in the
    command's cwd); "" when it is gone (Report.lines then names the worktree with -C)."""
    try:
        return os.getcwd()
    except OSError:
        return ""


def _call(cmd: list[str], cwd: str, told: str) -> int:
    """Run *cmd* as a shell would; the hooks it fires leave the report to us (*told*: the
    value of RUN_ENV they see, _told_file's path or "1")."""
    try:
        rc = subprocess.call(cmd, cwd=cwd, env={**os.environ, RUN_ENV: told})
        # killed by signal N: 128 + N, as a shell says it (sys.exit(-15) gave 241; RED30)
        return 128 - rc if rc < 0 else rc
    except FileNotFoundError:
        output.err(f"{cmd[0]}: command not found")
        return 127
    except OSError as exc:  # not executable, a directory, bad interpreter...: as a shell does
        output.err(f"{cmd[0]}: cannot run: {exc.strerror}")
        return 126
    except KeyboardInterrupt:
        return 130


def _told_file(repo: gitrepo.Repo) -> str | None:
    """A new empty file in this worktree's git dir (never in a snapshot), for the hooks the
    command fires to add the autostash they saw to (hooks._tell_run); None when it cannot be
    made (a read-only git dir: the hooks are told nothing). Its name is new each time: one
    after the pid alone found a killed run's file (no `finally` on SIGTERM) when the pid came
    round again, and the hooks of that run were told nothing."""
    path = os.path.join(repo.git_dir, f"{RUN_FILE}{os.getpid()}-{os.urandom(8).hex()}")
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
    except OSError:
        return None
    return path


def _autostashes(repo: gitrepo.Repo, told: str | None) -> list[str]:
    """The commits of git's autostash that the hooks under the command took edits from in
    this worktree (each once, in the order told); [] when none was told."""
    try:
        with open(told or "", "rb") as f:
            words = f.read().split(b"\0")
    except OSError:
        return []
    top = os.fsencode(repo.toplevel)
    out: list[str] = []
    for at, stash in zip(words[0::2], words[1::2]):
        oid = stash.decode("ascii", "replace")
        if at == top and oid not in out:
            out.append(oid)
    return out


def _report(
    repo: gitrepo.Repo,
    snap: Snapshot,
    what: str,
    revs: list[str],
    edits: dict[bytes, str],
    clean: set[bytes],
    stashes: Sequence[str] = (),
    mark: _Mark | None = None,
    when: float | None = None,
) -> lossreport.Report:
    with Store() as store:
        found = losses.find(store, repo, snap, None, revs)
        if found and stashes:
            found = _not_given_back(store, repo, snap, found, stashes)
        # (a folder the snapshot holds empty because its files were left out is not in
        # *found*: losses.find leaves it to these, or git gives them back: `stash pop`)
        unsaved = _unsaved(repo, snap, edits, clean, mark)
        named = {p for p, _ in unsaved}
        unsaved += [
            x for x in leftout.discarded_edits(repo, snap, edits, revs) if x[0] not in named
        ]
        report = lossreport.report_of(store, repo, what, snap, True, found, unsaved, when)
        if report:
            lossrecord.record(store, repo, report)
    return report


def _not_given_back(
    store: Store,
    repo: gitrepo.Repo,
    snap: Snapshot,
    found: list[losses.Loss],
    stashes: Sequence[str],
) -> list[losses.Loss]:
    """*found* less what git's autostash (*stashes*: _autostashes) took and gave back: the
    rule of a stopped operation's check (autostash.stash_gave_back: the entry in the stash
    list, or the file on disk what git's apply of it writes onto the index of the moment).
    `run -- git rebase --autostash B` named the edit git's apply had merged with B's change,
    and `undo` reverted that change (RED41 R1 F3 under run). Asked only where the autostash
    holds *snap*'s version (bytes and git's mode): what the command wrote over before git
    stashed is not in it, and is named. Not known (an error, a stash pruned): named."""
    from git_snapshot import gitoverlay
    from git_snapshot.autostash import stash_gave_back

    held: dict[str, dict[bytes, tuple[int, str]]] = {}  # stash -> path -> (git mode, id)
    changes: dict[str, gitoverlay.Changes] = {}  # (asked once: stash_gave_back takes them)
    for stash in stashes:
        with contextlib.suppress(Exception):  # (not known: named)
            changes[stash] = gitoverlay.stash_changes(repo, stash)
            held[stash] = {p: (m, oid) for p, m, oid in changes[stash][0]}
    asked = sorted({x.path for x in found if any(x.path in h for h in held.values())})
    if not asked:
        return found
    try:  # (the lost file's version in *snap*: git's mode and id; read only for those)
        entries = {p: e for p, e, _ in losses._lost_items(store, repo, snap, asked, None)}
        saved = {
            p: (losses._git_mode(e), losses.git_blob_id(store, e))
            for p, e in entries.items()
            if e.kind != DIR
        }
        # a file git converts (eol, a clean filter): the snapshot holds what git writes, the
        # autostash what it stores; the same version where git writes back the same bytes.
        # LF bytes that are the autostash's blob under eol=crlf, written back CRLF: none, and
        # named as such (losses.gives_back; the raw match alone dropped them: session 43)
        stored = {p: {h[p][1] for h in held.values() if p in h} for p in saved}
        filtered: set[bytes] = set()
        items = [(p, entries[p]) for p in saved]
        ids = losses.gives_back(store, repo, items, stored, snap.created, filtered)
        saved = {p: (saved[p][0], ids[p]) for p in saved if p in ids}
        found = [x._replace(status=losses.FILTERED) if x.path in filtered else x for x in found]
    except Exception:
        return found
    for stash, has in held.items():
        same = [x.path for x in found if x.path in has and saved.get(x.path) == has[x.path]]
        if same:
            with contextlib.suppress(Exception):  # (not known: named)
                back = stash_gave_back(store, repo, stash, same, changes[stash])
                found = [x for x in found if x.path not in back]
    return found


def _unsaved(
    repo: gitrepo.Repo,
    snap: Snapshot,
    edits: Mapping[bytes, str],
    clean: set[bytes],
    mark: _Mark | None = None,
) -> list[tuple[bytes, str]]:
    """What the snapshot left out (on purpose, or because it could not be read) and the
    command deleted, or wrote over (_wrote_over: where a move of HEAD it made wrote), and
    git cannot give back (_given_back): (path, why) each. A left-out file with an
    uncommitted edit (*edits*: leftout.left_out_edits before the command) is
    leftout.discarded_edits' to name: it knows the edit's version, and asks git for that
    one; *clean* (left_out_edits' too): the left-out paths that held HEAD's version only.
    *mark*: _mark's, before the command."""
    top = os.fsencode(repo.toplevel)
    gone = []
    there: list[tuple[bytes, str]] = []  # what is still there: written over, maybe
    folders: dict[bytes, bool] = {}  # (leftout.gone's answers: many paths share a folder)
    for path, why in snap.meta.get("skipped_paths", []):
        rel = os.fsencode(path)
        if rel in edits:
            continue
        said = leftout.unsaved_why(why, snap.id)
        if not said:
            continue
        if leftout.gone(top, rel, folders):
            gone.append((rel, said))
        elif mark is not None:
            there.append((rel, said))
    if there and mark is not None:
        over = _wrote_over(repo, snap, mark, [p for p, _ in there])
        gone += [(p, why) for p, why in there if p in over]
    if gone and mark is not None and mark.held:  # (held a stopped operation's version)
        held = mark.held
        kept = losses._reachable(repo, list(dict.fromkeys(held[p] for p, _ in gone if p in held)))
        gone = [(p, why) for p, why in gone if held.get(p) not in kept]
    if not gone:
        return []
    given = _given_back(repo, snap, [p for p, _ in gone], clean)
    return [(p, why) for p, why in gone if p not in given]


class _Mark:
    """Where the repository stood before the command. A plain class, as guards' are: typing
    and dataclasses were 15 ms of every run."""

    __slots__ = ("command", "held", "stops", "tail")

    def __init__(
        self,
        tail: bytes,  # HEAD's reflog where it ended: its last bytes
        stops: dict[str, str],  # the commits git's stop files named (_STOPS)
        held: dict[bytes, str],  # the left-out files that held a version of one of those
        command: Sequence[str],  # the command run runs (is it a plain checkout: _wrote_over)
    ) -> None:
        self.tail = tail
        self.stops = stops
        self.held = held
        self.command = command


_MARK_BYTES = 4096  # the last bytes of HEAD's reflog _mark keeps (timed, with both ids)
# the files in which git keeps the commit an operation stopped in the middle of applying,
# having written what it could of it: a merge's (the other side), a pick's, a revert's
_STOPS = gitextra._IN_PROGRESS
# the first words of the reflog messages of the moves of HEAD that write the worktree: git
# wrote each path the commits differ at ("rebase (pick)", "pull --rebase ... (pick)",
# "merge X: Fast-forward", "checkout: moving from"); a commit's move writes no file, and
# any other (a reset: --hard writes, --soft and --mixed do not) counts only for a path git
# wrote since the command began (its ctime)
_WRITING = (b"checkout", b"rebase", b"pull", b"merge", b"cherry-pick", b"revert", b"am")


def _mark(repo: gitrepo.Repo, snap: Snapshot, command: Sequence[str] = ()) -> _Mark | None:
    """Before the command: where HEAD's reflog ends, and what git's stop files name (_STOPS),
    for _wrote_over, and _stop_held's, with *command* (run's: _forced); None when *snap* left
    out nothing a report would name, or HEAD's reflog cannot be read. No git process unless
    an operation is stopped (a read of the reflog's last bytes, four stats)."""
    skipped = [
        os.fsencode(p)
        for p, why in snap.meta.get("skipped_paths", [])
        if leftout.unsaved_why(why, snap.id)
    ]
    if not skipped:
        return None
    try:
        tail = losses.reflog_tail(repo.git_dir, _MARK_BYTES)
    except FileNotFoundError:
        tail = b""
    except OSError:
        return None
    stops = _stopped_at(repo)
    return _Mark(tail, stops, _stop_held(repo, skipped, stops) if stops else {}, command)


def _stop_held(repo: gitrepo.Repo, paths: list[bytes], stops: dict[str, str]) -> dict[bytes, str]:
    """Of the left-out *paths*, the files that hold (git's id of their bytes) the version a
    commit of a stopped operation holds (*stops*: a merge's other side, the pick a rebase or
    cherry-pick stopped on): path -> that commit. What the operation wrote there before it
    stopped, git's own: a command that then deletes it (`merge --abort`) destroyed nothing
    git cannot give back. `run -- git merge --abort` named main's x.log "not saved" after
    the stopped merge's report had named the user's version the merge wrote over (once
    from each snapshot; run names the merge's at its stop too: session 43, fixS). An
    ls-tree a commit, and a hash of each file such a commit tracks."""
    top = os.fsencode(repo.toplevel)
    out: dict[bytes, str] = {}
    for oid in dict.fromkeys(stops.values()):
        todo = [p for p in paths if p not in out]
        with contextlib.suppress(Exception):  # (not known: named)
            for p, (mode, blob) in gitrepo.tree_entries(repo, oid, todo).items():
                if (
                    mode != gitrepo.MODE_SYMLINK
                    and leftout.file_blob_id(os.path.join(top, p)) == blob
                ):
                    out[p] = oid
    return out


def _stopped_at(repo: gitrepo.Repo) -> dict[str, str]:
    out = {}
    for name in _STOPS:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            with open(os.path.join(repo.git_dir, name), encoding="ascii") as f:
                oid = f.readline().split(" ", 1)[0].strip()
            if gitrepo.is_oid(oid):
                out[name] = oid
    return out


def _moves_since(repo: gitrepo.Repo, snap: Snapshot, tail: bytes) -> list[tuple[str, str, bytes]]:
    """(from, to, first word of its message) of each move of HEAD since _mark's *tail* (the
    reflog's lines after it), oldest first. When the reflog no longer holds *tail* (rewritten:
    `git reflog expire`, gc), those since *snap* was taken (reflog times: whole seconds)."""
    from git_snapshot.hooks import REFLOG_TAIL

    try:
        data = losses.reflog_tail(repo.git_dir, REFLOG_TAIL)
    except OSError:
        return []
    at = data.rfind(tail) if tail else 0
    if at >= 0:
        lines = data[at + len(tail) :].split(b"\n")
        entries = [e[:3] for e in map(losses.reflog_entry, lines) if e is not None]
    else:
        entries = list(losses.reflog_since(repo.git_dir, snap.created, REFLOG_TAIL))[::-1]
    return list(hooks.real_moves(entries))


def _wrote_over(repo: gitrepo.Repo, snap: Snapshot, mark: _Mark, paths: list[bytes]) -> set[bytes]:
    """Those of the left-out *paths* (still there) that the command wrote over: a move of HEAD it
    made, or a stop it left (a conflicted rebase's pick, cherry-pick, revert, merge: no
    move, git wrote what it could), wrote (added or changed, not deleted: _diff_paths) at
    the path, or at a file below it (a left-out folder), where the commit HEAD was at when
    *snap* was taken has no file (there git holds the user's version, or it was an edit:
    leftout.discarded_edits'). A path is there, so no move deleted it last: git wrote it, or
    a file below it (with `run -- git rebase main` stopped on a conflict, the rebase's
    checkout of main had written main's x.log over the user's excluded, ignored one; run
    named only what was gone, and the `--abort` that deleted git's version later had nothing
    to say: fixI's unsaved4.sh, session 41). A move that may not write the worktree (a
    reset; not a commit's, which writes none), and a merge's stop (what the two sides differ
    at: not all written), count only where the file was written since *snap* was taken (its
    ctime). Where git's ignore rules do not match, git refuses to write over an untracked
    file unless forced (_forced; lostfrom._switch_kept's rule for a plain switch): there a file
    below a left-out folder counts only if forced (`run -- git checkout main` named "not
    saved: data" for the file main adds to the excluded folder data/), and the path itself
    only if forced or changed since *snap* (a rebase stopped on a pick git refused to write
    x.log for: review RS43). One diff-tree (two: a reset and a checkout), and one ls-tree
    for what it finds, only when the command moved HEAD or stopped; one check-ignore for
    what git may have refused."""
    from git_snapshot.hooks import COARSE_CLOCK_SLACK_S
    from git_snapshot.lostfrom import _folders_of

    # diff-tree --stdin lines: a commit and the one it is compared with, or one alone (with
    # its parent), written first: a line that names a commit with another makes that its
    # parent for the lines after it (a stop on topic's last pick was compared with main)
    sure: list[str] = []
    maybe: list[str] = []
    for name, oid in _stopped_at(repo).items():
        if mark.stops.get(name) != oid:  # a stop the command left (not one it began in)
            if name == "MERGE_HEAD":
                head = gitrepo.head(repo)
                if head:
                    maybe.append(f"{oid} {head}")
            else:
                sure.append(oid)
    words: set[bytes] = set()  # (of the moves: _forced)
    for old, new, word in _moves_since(repo, snap, mark.tail):
        if word != b"commit":
            (sure if word in _WRITING else maybe).append(f"{new} {old}")
            words.add(word)
    if not (sure or maybe):
        return set()
    wrote: dict[bytes, bool] = {}  # path -> surely written (else: only if written since)
    deleted: set[bytes] = set()  # (what a move deleted, there now: not git's writing)
    for lines, surely in ((maybe, False), (sure, True)):
        if lines:
            changed, removed = _diff_paths(repo, lines)
            deleted |= removed
            for p in changed:
                wrote[p] = surely or wrote.get(p, False)
    below = _folders_of(wrote)
    hit = [p for p in paths if p in wrote or p in below]
    if not hit:
        return set()
    # the files written at or below each hit, less those the commit HEAD was at tracks
    at = {p: [p] if p in wrote else [w for w in wrote if w.startswith(p + b"/")] for p in hit}
    head = snap.meta.get("head")
    tracked: set[bytes] = set()
    if isinstance(head, str) and gitrepo.is_oid(head):
        with contextlib.suppress(Exception):  # (a commit gone: none known as git's)
            tracked = set(gitrepo.tree_entries(repo, head, [w for ws in at.values() for w in ws]))
    top = os.fsencode(repo.toplevel)
    since = snap.created - COARSE_CLOCK_SLACK_S

    def as_was(w: bytes) -> bool:  # (not changed since *snap* was taken)
        try:
            return os.lstat(os.path.join(top, w)).st_ctime < since
        except OSError:
            return False

    # where git refuses to write over an untracked file its ignore rules do not match (not
    # forced; no .gitignore among what it wrote: the rules it went by): a file below a hit,
    # where it had none (none was there), and the left-out path itself if it is as it was (a
    # rebase that stopped on a pick adding x.log, refusing to write over the user's, left
    # REBASE_HEAD: review RS43; changed, git deleted a folder of ignored files to write it)
    kept = {w for p, ws in at.items() for w in ws if w not in tracked and (w != p or as_was(w))}
    rules = any(w.rpartition(b"/")[2] == b".gitignore" for w in [*wrote, *deleted])
    if kept and not rules and not _forced(words, mark.command):
        tracked |= kept - gitextra.ignored(repo, kept)

    def written(w: bytes) -> bool:
        if w in tracked:  # (or known not written over: above)
            return False
        if wrote[w]:
            return True
        return os.path.lexists(os.path.join(top, w)) and not as_was(w)  # (gone: not known)

    return {p for p, ws in at.items() if any(written(w) for w in ws)}


def _forced(words: set[bytes], command: Sequence[str]) -> bool:
    """Whether the moves of HEAD (the first *words* of their reflog messages: _moves_since)
    of *command* may have written over an untracked file git's ignore rules do not match: a
    reset (--hard does), or a checkout unless *command* is a plain `git checkout` or
    `git switch` (leftout.switch_force, an alias expanded: -f, --discard-changes write over
    it; a checkout a script ran is not known). A merge, rebase, pull, pick, revert or am
    refuses to, and so does the stop one leaves."""
    from git_snapshot import proc

    if any(w not in _WRITING for w in words):
        return True
    if b"checkout" not in words:
        return False
    return leftout.switch_force(proc.expanded(tuple(command))) is not False


def _diff_paths(repo: gitrepo.Repo, lines: list[str]) -> tuple[set[bytes], set[bytes]]:
    """The paths each of *lines* (diff-tree --stdin's: a commit and the one it is compared
    with, or one compared with its parent) wrote (added, changed), and those it deleted: a
    file there now that a move deleted another move wrote, or it was not git's to delete (a
    stopped pick that untracks x.log where HEAD has none was named: review RS43). One
    diff-tree (hooks.tree_changes: a commit gone since ends it)."""
    wrote: set[bytes] = set()
    deleted: set[bytes] = set()
    for status, path in hooks.tree_changes(repo, lines):
        (deleted if status == b"D" else wrote).add(path)
    return wrote, deleted


NEW_STASHES_AT_MOST = 4  # stash entries the command made that run looks into (an ls-tree each)


def _given_back(
    repo: gitrepo.Repo, snap: Snapshot, paths: list[bytes], clean: set[bytes]
) -> set[bytes]:
    """Those of the left-out *paths* the command deleted whose version git holds, though no
    snapshot does (lostfrom._unsaved asks the same of the commit the operation left):

    - a stash entry the command made (not among those *snap* recorded: worktree.take holds
      the newest STASHES_KEPT) holds the path, or files below it, in its worktree, index or
      untracked commit: `git stash -u` deletes what it has just put there, as it was;
    - the path held HEAD's version only before the command (*clean*: a file with HEAD's
      bytes, a link with its target, a folder of only such; not an untracked file, a file
      not read), and a ref still reaches that HEAD (*snap*'s: run's snapshot is never a
      reused one), as losses.given_heads asks: a commit only the reflog holds (a detached
      HEAD the command left) is pruned by gc (review41 RH).

    A version is not compared (the snapshot holds none to compare): an older stash entry or
    another commit holding the path says nothing of what the command deleted."""
    held: set[bytes] = set()
    before = snap.meta.get("stashes") or []
    new: list[str] = []
    for oid in worktree.stash_ids(repo):  # newest first: the entries pushed since, on top
        if oid in before or len(new) >= NEW_STASHES_AT_MOST:
            break
        new.append(oid)
    if new:
        entries = gitrepo.stash_entries(repo, len(new))
        commits = [c for e in entries if e and e[0] in new for c in (e[:1] + e[2:])]
        for rev in commits:
            held |= _held_in(repo, rev, [p for p in paths if p not in held])
    head = snap.meta.get("head")
    todo = [p for p in paths if p not in held and p in clean]
    if todo and isinstance(head, str) and losses._reachable(repo, [head]):
        held.update(todo)
    return held


def _held_in(repo: gitrepo.Repo, rev: str, paths: list[bytes]) -> set[bytes]:
    """Those of *paths* that commit *rev* holds as a file (or link) or as a folder of them."""
    from git_snapshot import gitextra

    if not paths:
        return set()
    wanted = set(paths)
    out: set[bytes] = set()
    for batch in gitextra._pathspec_batches(paths):
        for path, _mode, _kind, _oid in gitextra.ls_tree(repo, rev, batch, check=False):
            at = path
            while at and at not in wanted:
                at = at.rpartition(b"/")[0]
            if at:
                out.add(at)
    return out
