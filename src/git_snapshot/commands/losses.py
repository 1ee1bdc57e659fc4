"""``git snapshot losses``: past loss reports; ``git snapshot undo``: restore the latest."""

from __future__ import annotations

import os

from git_snapshot import gitrepo
from git_snapshot import identity
from git_snapshot import lossrecord
from git_snapshot import lossreport
from git_snapshot import output
from git_snapshot.commands.common import from_here
from git_snapshot.commands.common import here_in
from git_snapshot.commands.common import repo_at
from git_snapshot.errors import UserError
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store import losslog

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any


def cmd_losses(*, cwd: str, json_out: bool = False) -> int:
    if not os.path.isdir(cwd):  # -C at a repository deleted whole, most likely
        return _gone_at(os.path.abspath(cwd), json_out)
    try:
        repo = repo_at(cwd)
    except UserError as exc:  # none here: the reports of repositories deleted whole, if any
        if not str(exc).startswith("not a git repository"):
            raise
        return _gone(exc, json_out)
    with Store() as store:
        log = lossrecord.log_lines(store, repo, moved=True)  # (read once: reports and undo notes)
        items = lossrecord.reports(log)
        held = _held(store, repo)
        undone = lossrecord.undone(log)
        others = _held_before(store, items)
        damage = lossrecord.log_damage(store, repo)
    for item in items:
        item["available"] = _available(item, others.get(item.get("source"), held))
        note = _note(item, undone)
        if note is not None and _id(item) in note.get("not_undone", ()):
            note = None  # its part of the report the undo could not put back (forgotten)
        item["undone"] = None if note is None else note.get("when")  # by git snapshot undo
    for line in lossrecord.damage_lines(damage):  # named, never passed over (RED34 D6)
        output.err(line)
    if json_out:
        output.print_json(items)
        return 1 if damage and not items else 0
    # a repository deleted whole has no worktree of its own to list it in: every worktree's
    # list names those whose snapshot still holds what went
    gone = [item for item in _gone_items() if item["available"]]
    try:
        here = here_in(repo, cwd)  # paths as typed here (restore takes them so)
    except UserError:  # in the git directory
        here = b""
    if not items and damage:  # never "no loss reports": there are, and they cannot be read
        print("no loss report of this worktree can be read (see above)")
        if gone:
            _print_gone(gone)
        return 1
    if not items:
        # a newcomer after a `reset --hard` looks here first: what no hook reports is found
        # by comparing a snapshot from before it with the worktree
        ident = compare_with(repo)
        which = "" if ident == "latest" else f" ({_watchers(ident)})"
        print(
            f"no loss reports for this worktree ({no_hook_list(git=True)} run no hook and "
            f"report nothing: pick a snapshot from before one in 'git snapshot list'{which}, "
            "then see what it holds that the worktree lacks with: git snapshot diff ID)"
        )
        if gone:
            _print_gone(gone)
        return 0
    rows = [
        [
            item.get("when", ""),
            output.message(str(item.get("command", ""))),
            _shown_id(item),
            _what(item, here, repo.toplevel),
        ]
        for item in items
    ]
    print(
        output.table(["WHEN", "COMMAND", "SNAPSHOT", "LOST"], rows, right=[2], colors={2: "yellow"})
    )
    if gone:
        _print_gone(gone)
    return 0


GONE = "forgotten since"


def _gone(exc: UserError, json_out: bool) -> int:
    """`losses` where no repository is: the reports of repositories deleted whole that no
    worktree can show (bursts._record_gone), each with the command that writes its files
    back; the error of a command that needs a repository when there is none."""
    items = _gone_items()
    if not items:
        raise exc
    if json_out:
        output.print_json(items)
        return 0
    _print_gone(items)
    return 0


def _gone_at(where: str, json_out: bool) -> int:
    """`losses` with -C at a folder that is gone: the reports of the repositories deleted
    whole there (or above it); else the error, saying where such reports are listed."""
    items = [
        item
        for item in _gone_items()
        if where == item["removed_worktree"] or where.startswith(item["removed_worktree"] + "/")
    ]
    if not items:
        if gitrepo.in_the_way(where):  # a file, not a deleted repository: said as such
            raise gitrepo.no_directory(where)
        raise UserError(
            f"no such directory: {output.display(os.fsencode(where))} (a repository deleted "
            "whole is listed by git snapshot losses, run in any directory)"
        )
    if json_out:
        output.print_json(items)
    else:
        _print_gone(items)
    return 0


def _gone_items() -> list[dict[str, Any]]:
    """lossrecord.gone_reports, each with ``available``."""
    with Store() as store:
        items = lossrecord.gone_reports(store)
        if not items:
            return []
        held = {key: {s.id: s.created for s in store.snapshots(key)} for key in _sources(items)}
    for item in items:
        item["available"] = _available(item, held.get(str(item.get("source")), {}))
    return items


def _print_gone(items: list[dict[str, Any]]) -> None:
    rows = [
        [
            item.get("when", ""),
            output.display(os.fsencode(str(item["removed_worktree"]))),
            _shown_id(item),
            _what(item),
        ]
        for item in items
    ]
    print("repositories deleted whole (no worktree is left to report them in):")
    print(
        output.table(
            ["WHEN", "REPOSITORY", "SNAPSHOT", "LOST"], rows, right=[2], colors={2: "yellow"}
        )
    )
    for item in items:
        if item["available"]:
            where = output.shell_quote(os.fsencode(str(item["removed_worktree"])))
            name = output.shell_quote(os.fsencode(_id(item)))
            print(f"restore with: git snapshot restore {name} --to {where}")


def _sources(items: list[dict[str, Any]]) -> set[str]:
    return {item["source"] for item in items if isinstance(item.get("source"), str)}


def _note(item: dict[str, Any], undone: dict[float, dict[str, Any]]) -> dict[str, Any] | None:
    """The note of the undo that put back what loss report *item* named, or None."""
    when = item.get("time")
    return undone.get(float(when)) if isinstance(when, (int, float)) else None


def _named(item: dict[str, Any]) -> list[str]:
    """The paths loss report *item*'s restore command names (from the worktree's top): an
    entry written before reports named them, the lost paths themselves; and those its
    "also gone since" line names (red44 F5b: a `git clean` just before the checkout, no hook
    of its own), which `undo` puts back with the rest."""
    named = [str(p) for p in item.get("restore") or [x["path"] for x in item["lost"]]]
    return named + [str(x["path"]) for x in item.get("also_gone") or ()]


def _id(item: dict[str, Any]) -> str:
    """The snapshot a report names, as restore takes it here: qualified (``name#tag:N``)
    for one of the repository that was at this path before this one (bursts.record)."""
    repo = item.get("repo")
    return f"{repo}:{item['snapshot']}" if repo else str(item["snapshot"])


def _shown_id(item: dict[str, Any]) -> str:
    """_id, and what the report's own restore command named when `repair` renumbered its
    snapshot since (losslog.follow_renumbering), or that the snapshot was forgotten."""
    was = item.get(losslog.RENUMBERED)
    return (
        _id(item)
        + (f" (was {was})" if was is not None else "")
        + ("" if item["available"] else f" ({GONE})")
    )


def _held_before(store: Store, items: list[dict[str, Any]]) -> dict[Any, dict[int, float]]:
    """The snapshots (number -> when taken) of each repository that was at this path before
    this one and that a report in *items* names."""
    keys = {item["source"] for item in items if isinstance(item.get("source"), str)}
    return {key: {s.id: s.created for s in store.snapshots(key)} for key in keys}


def _held(store: Store, repo: gitrepo.Repo) -> dict[int, float]:
    """This repository's snapshots in the store: number -> when taken."""
    key = identity.known_source(store, repo)
    return {} if key is None else {s.id: s.created for s in store.snapshots(key)}


def _available(item: dict[str, Any], held: dict[int, float]) -> bool:
    """Whether the snapshot a report names still holds what it lost: it is in the store and
    is the one the report named (taken when the report says it was: a number forgotten and
    reclaimed must never stand for another snapshot)."""
    sid: int = item["snapshot"]
    return losslog.now_numbered(held, sid, item.get("saved_time")) == sid


def _what(item: dict[str, Any], here: bytes = b"", top: str | None = None) -> str:
    """The paths a report lost, as typed in the folder *here* of its worktree at *top* (a
    stash entry's or a worktree removed whole's: as the report names them; another worktree
    that `run` saw removed, from *here* too: the report named it from where the user was)."""
    if top is not None and item.get("to") and item.get("lost", [{}])[0].get("kind") == "worktree":
        where = os.path.relpath(str(item["to"]), os.path.join(top, os.fsdecode(here)))
        return output.display(os.fsencode(where)) + _undone(item)
    if item.get("to") or item.get("removed_worktree"):
        here = b""

    def typed(path: str) -> bytes:
        return from_here(here, os.fsencode(path))

    lost = item.get("lost", [])
    paths = [typed(x["path"]) + (b"/" if x.get("type") == "dir" else b"") for x in lost]
    # a file whose mode alone went, as the report named it (RED44 F8.4, review RS45)
    modes = [_modes(x) for x in lost]
    names = ", ".join(lossreport.with_modes(lossreport.fold(paths), modes, item.get("exact", True)))
    if paths and not item.get("exact", True):  # saved before the command: maybe older
        some = [typed(p) for p in item.get("maybe_older") or []]
        every = len(some) >= len(paths) or not some  # (an entry written before: all of them)
        names += (
            " (an earlier version)"
            if every
            else f" (an earlier version of {', '.join(lossreport.fold(some))})"
        )
    if item.get("events_lost"):  # the watcher's events overflowed: more may have gone
        names += " (events were lost: maybe more)"
    names += _undone(item)
    unsaved = [typed(x["path"]) for x in item.get("unsaved", [])]
    if unsaved:
        names += ("; " if names else "") + "not saved: " + ", ".join(lossreport.fold(unsaved))
    gone = [typed(x["path"]) for x in item.get("also_gone") or ()]
    if gone:  # (in its snapshot too; undo puts them back with the rest)
        names += "; also gone since, not by it: " + ", ".join(lossreport.fold(gone))
    more = item.get("gone_more")
    if isinstance(more, int) and more:  # (too many to ask git of: see `git snapshot diff`)
        names += (
            f"; also gone since, not by it: {more:,} files (see: git snapshot diff {_id(item)})"
        )
    return names


def _modes(lost: dict[str, Any]) -> tuple[int, int] | None:
    """The (saved, disk's) modes a loss entry's file of the same bytes had (losses.Loss),
    when the log says them as they are written."""
    m = lost.get("modes")
    if isinstance(m, list) and len(m) == 2 and all(type(v) is int and 0 <= v <= 0o7777 for v in m):
        return m[0], m[1]
    return None


def _undone(item: dict[str, Any]) -> str:
    return f" (undone {item['undone']})" if item.get("undone") else ""


def _newer_elsewhere(store: Store, repo: gitrepo.Repo, latest: dict[str, Any] | None) -> None:
    """Refuse when another store this repository is snapshotted into (whichstore) holds a
    loss report of this worktree newer than this store's latest: a git using that store
    reported it, and undo here put back an older one, or found none (RED44 F1). Not one
    made before this store's first snapshot of the worktree (a store the user moved away
    from: this store's hooks never saw it), nor one undone there already (review RF1:
    both sent the user to it, again and again)."""
    from git_snapshot import whichstore

    mine = float(latest.get("time") or 0) if latest else 0.0
    key = identity.known_source(store, repo)
    own = identity.owner(repo)
    first = [s for s in store.snapshots(key, repo.toplevel) if own(s)][:1] if key else []
    if first:
        mine = max(mine, first[0].created)
    for other in whichstore.others(repo.common_dir, store.path):
        try:
            with Store(other) as theirs:
                log = lossrecord.log_lines(theirs, repo)
        except Exception:
            continue
        reports = lossrecord.reports(log)
        last = reports[-1] if reports else None
        if last and float(last.get("time") or 0) > mine and not _note(last, lossrecord.undone(log)):
            raise UserError(
                f"the latest loss report of this worktree ({last.get('command')}, "
                f"{last.get('when')}) is in store {whichstore.shown(other)}, not in this one "
                f"({whichstore.shown(store.path)}): undo it with: {whichstore.quoted(other)} "
                "git snapshot undo; to undo this store's latest, add --this-store"
            )


def cmd_undo(*, cwd: str, dry_run: bool = False, this_store: bool = False) -> int:
    repo = repo_at(cwd)
    with Store() as store:
        log = lossrecord.log_lines(store, repo, moved=True)
        every = lossrecord.reports(log)
        # (a report naming only unsaved files, with files gone since in its snapshot: those)
        items = [i for i in every if i.get("lost") or i.get("also_gone")]
        if not this_store:
            _newer_elsewhere(store, repo, every[-1] if every else None)
        held = _held(store, repo)
        undone = lossrecord.undone(log)
        group = _moment(items)
        others = _held_before(store, group)
        damage = lossrecord.log_damage(store, repo)
    if damage:
        _damaged_log(damage, group[-1] if group else None)
    if (
        every
        and not every[-1].get("lost")
        and not every[-1].get("also_gone")
        and every[-1].get("unsaved")
    ):
        # the latest report names only what no snapshot holds: undoing an older one instead
        # would put back files of another command, over what was written since
        latest = every[-1]
        unsaved = [os.fsencode(x["path"]) for x in latest["unsaved"]]
        raise UserError(
            f"the latest loss report ({latest['command']}, {latest['when']}) names only what "
            f"no snapshot holds (not saved: {', '.join(lossreport.fold(unsaved))}): nothing of it "
            "can be undone; older reports: git snapshot losses, then git snapshot restore ID PATH"
        )
    if not group:
        raise UserError(
            f"no loss report to undo in this worktree (see: git snapshot losses); {no_hook(repo)}"
        )
    last = group[-1]
    note = _note(last, undone)  # (the reports of one moment share their note)
    if note is not None and not note.get("partial"):  # a partial undo is finished by another
        skipped = [i for i in group if _id(i) in note.get("not_undone", ())]
        kept = [i for i in group if i not in skipped] or group
        raise UserError(
            _already_undone(repo, cwd, _together(kept), note, held)
            + (f"; {_not_put_back(repo, cwd, skipped)}" if skipped else "")
        )
    # a part whose snapshot was forgotten since is named, the others still put back (after a
    # restore the report is in two parts, in two snapshots: one may go without the other)
    gone = [i for i in group if not _available(i, others.get(i.get("source"), held))]
    group = [i for i in group if i not in gone]
    if not group:
        ids = ", ".join(_id(item) for item in gone)
        raise UserError(
            f"the latest loss report ({last['command']}, {last['when']}) names snapshot"
            f"{'s' * (len(gone) > 1)} {ids}, which {'were' if len(gone) > 1 else 'was'} {GONE} "
            "(forget or prune): what it lost is no longer in the store; look for other "
            "versions with: git snapshot log PATH"
        )
    # the parts in this worktree; what a partial undo of this report (note) wrote is that
    # undo's, not a change since
    mine = [i for i in group if not _elsewhere(i) and not i.get("repo")]
    after = max(float(last.get("time") or 0), float((note or {}).get("time") or 0))
    _changed_since(repo, cwd, last, mine, after)
    since = _gone_since(repo, cwd, last, mine, after, dry_run)
    if not last.get("lost") and last.get("unsaved"):  # (its files gone since alone: below)
        unsaved = [lossreport.rel_to(repo, cwd, os.fsencode(x["path"])) for x in last["unsaved"]]
        output.err(
            f"not saved, not put back: {', '.join(lossreport.fold(unsaved))} (no snapshot holds "
            "what the report names so)"
        )
    verb = "would undo" if dry_run else "undoing"
    ids = ", ".join(_id(item) for item in group)
    print(
        f"{verb}: {last['command']} ({last['when']}{since}), "
        f"from snapshot{'s' * (len(group) > 1)} {ids}"
    )
    done: list[Snapshot | None] = []
    away: list[Snapshot | None] = []  # (restores --to a folder of their own: not this worktree)
    rc = 0
    for item in group:  # each from its snapshot, one restore each (paths apart)
        rc = max(rc, _undo_one(repo, cwd, item, dry_run, away if _elsewhere(item) else done))
    if done or away:  # it wrote: a second undo of this report would write over what follows
        with Store() as store:
            # (the first restore's pre-restore snapshot holds what every one wrote over)
            saved = done[0] if done else None
            lossrecord.note_undone(
                store,
                repo,
                last,
                saved,
                partial=rc != 0,
                earlier=note,
                skipped=[_id(i) for i in gone],
            )
    if done and rc != 0:
        output.err(
            "the undo is not finished: once what is named above can be written, run "
            "git snapshot undo again to put back the rest (what it writes over is kept in a "
            "snapshot first)"
        )
    if gone:  # last: what the user must look for elsewhere
        output.err(
            f"{_not_put_back(repo, cwd, gone)}; look for other versions with: git snapshot log PATH"
        )
    return max(rc, 1 if gone else 0)


# the git commands no hook runs for, those of README.md's table ("**none**") a user types by
# hand: one list, which `losses` and `undo` name (RED44 F7: each had its own, both short)
NO_HOOK_COMMANDS = (
    "reset --hard",
    "clean",
    "restore -p",
    "stash",  # (push, where a folder of new files took a tracked file's place: RED40 F1)
    "stash drop",
    "checkout -p",
    "stash clear",
    "merge --abort",
    "rebase --abort",
    "rebase --skip",
    "cherry-pick -n",  # (a pick's or a revert's commit has post-commit: red44 F5)
    "revert -n",
    "cherry-pick --ff",  # (when it fast-forwards: no commit, review RF5)
    "sparse-checkout set",
    "worktree remove",
)
NO_HOOK_NEWEST = (
    "bring back the newest saved copy of a file with git snapshot restore --newest PATH"
)


def no_hook_list(git: bool = False) -> str:
    """NO_HOOK_COMMANDS, each after 'git ' with *git*."""
    return ", ".join(("git " if git else "") + c for c in NO_HOOK_COMMANDS)


def compare_with(repo: gitrepo.Repo) -> str:
    """undo_since.compare_with: the ID to compare the worktree with after a command git runs
    no hook for; 'latest' when it cannot be told."""
    from git_snapshot.commands import undo_since

    try:
        with Store() as store:
            return undo_since.compare_with(store, repo)
    except Exception:  # a courtesy of the message: never its failure
        return "latest"


def no_hook_find(repo: gitrepo.Repo, short: bool = False) -> str:
    """What finds a loss that no report names (README.md's recovery words): the snapshot to
    compare the worktree with, which is not `latest` when the watcher's latest snapshot saved
    the damage (undo_since.compare_with; RED44 F3: `diff latest` said "no changes"). *short*:
    the first commands of the list only (a line of a few short ones, RED40 D9)."""
    ident = compare_with(repo)
    cmds = f"{', '.join(NO_HOOK_COMMANDS[:4])}, ..." if short else no_hook_list()
    if ident == "latest":
        which = "" if short else " (or with an older snapshot from git snapshot list)"
    elif short:
        which = " (from before the last change the watcher saw)"
    else:
        which = f" ({_watchers(ident)}; or an older one from git snapshot list)"
    return (
        f"a command git runs no hook for ({cmds}) is in no loss report: "
        f"see what one took with git snapshot diff {ident}{which}"
    )


def _watchers(ident: str) -> str:
    return (
        f"snapshot {ident}, the newest from before the last change the watcher saw: latest "
        "holds the worktree as it is now"
    )


def no_hook(repo: gitrepo.Repo) -> str:
    return f"{no_hook_find(repo)}, and {NO_HOOK_NEWEST}"


def _changed_since(
    repo: gitrepo.Repo, cwd: str, last: dict[str, Any], mine: list[dict[str, Any]], after: float
) -> None:
    """Refuse, writing nothing, when a path the reports *mine* (of this worktree) would write
    back changed since *after* (when *last* or a partial undo of it was made; undo_since):
    after a command git ran no hook for (`reset --hard`), the latest report is an older
    command's, and undo put its versions over the user's later work, silently (RED38 B1). A
    line per such path, then what finds the loss of a command with no hook, and the restore
    command that puts the report's versions back all the same (pasting it is the
    confirmation: it keeps what it replaces)."""
    from git_snapshot.commands import undo_since

    if not mine:
        return
    changed: list[undo_since.Changed] = []
    taken = 0
    with Store() as store:
        key = identity.known_source(store, repo)
        held = {s.id: s for s in store.snapshots(key)} if key is not None else {}
        for item in mine:
            snap = held.get(item["snapshot"])
            if snap is not None:
                named = [os.fsencode(p) for p in _named(item)]
                found, taken = undo_since.since(store, repo, snap, named, after)
                changed += found
    if not changed:
        return
    for line in undo_since.lines(repo, cwd, str(last["command"]), changed):
        output.err(line)
    cmds = _restores(repo, cwd, mine)
    since = (
        f" ({taken} snapshot{'s were' if taken > 1 else ' was'} taken since it)" if taken else ""
    )
    # short lines, not one of 548 characters (RED40 D9): why, how the loss of a command with
    # no hook is found, and the command that overrides the refusal (last: the one to paste)
    output.err(
        f"not undone: the latest loss report ({last['command']}, {last['when']}) is older than "
        f"what changed since at the paths it would write back{since}"
    )
    output.err(no_hook_find(repo, short=True))
    output.err(NO_HOOK_NEWEST)
    raise UserError(
        "to put that report's versions back all the same (what they replace is kept in a "
        f"snapshot first): {cmds}"
    )


def _restores(repo: gitrepo.Repo, cwd: str, mine: list[dict[str, Any]]) -> str:
    """The restore commands that put the versions the reports *mine* name back, as typed in
    *cwd* (pasted whole into a shell: one after the other)."""
    return " && ".join(
        f"git snapshot restore {_id(i)} "
        + output.path_args([lossreport.rel_to(repo, cwd, os.fsencode(p)) for p in _named(i)])
        for i in mine
    )


def _gone_since(
    repo: gitrepo.Repo,
    cwd: str,
    last: dict[str, Any],
    mine: list[dict[str, Any]],
    after: float,
    dry_run: bool,
) -> str:
    """How old the report *last* is and how many snapshots were taken since *after* (', 5m
    ago; 3 snapshots taken since'), said with what undo undoes; and when snapshots taken since hold
    files now gone from the disk that git cannot give back (undo_since.gone_since), a line
    each with its `restore --newest`. When one of them is what a `reset --hard` with no
    report leaves (Gone.reset), a refusal too (with --dry-run: the lines, that undo refuses,
    and what it would undo): undo puts back the older report's files, which the user may
    have discarded on purpose, and not the loss they mean (RED44 F4). The restore command of
    that report, pasted, undoes it all the same. Files merely deleted (by hand, a build, a
    rename, or a `git clean`: undo cannot tell) are named, and the report undone (review
    RF3)."""
    from git_snapshot.commands import undo_since

    when = float(last.get("time") or 0)
    named = [os.fsencode(p) for i in mine for p in _named(i)]
    with Store() as store:
        taken = undo_since.taken_since(store, repo, after)
        gone = undo_since.gone_since(store, repo, after, named) if taken else []
    age = f", {output.age(when)}" if when else ""
    since = f"; {taken} snapshot{'s' * (taken != 1)} taken since" if taken else ""
    if not gone:
        return age + since
    report = f"the loss report of {output.message(str(last['command']))}"
    for rel, sid, _ in gone[: undo_since.SHOWN_AT_MOST]:
        word = output.path_args([lossreport.rel_to(repo, cwd, rel)])
        output.err(
            f"{output.display(lossreport.rel_to(repo, cwd, rel))}: gone from the disk since "
            f"{report}"
            f" (snapshot {sid} holds it, git does not); restore it with: "
            f"git snapshot restore --newest {word}"
        )
    if len(gone) > undo_since.SHOWN_AT_MOST:
        output.err(f"and {len(gone) - undo_since.SHOWN_AT_MOST} more such paths")
    verb = "would undo" if dry_run else "undoing"
    if not any(g.reset for g in gone):
        output.err(
            "these were deleted or moved since (by hand, by a build, or by a git clean), not put "
            f"back to git's version as a reset --hard does: {verb} all the same"
        )
        return age + since
    # (a command git runs no hook for took it: a reset --hard)
    why = f"the latest loss report ({last['command']}, {last['when']}{age}{since}) is older"
    if dry_run:  # (what undo does, said: not "would undo" alone)
        output.err(f"without --dry-run, not undone: {why} than that loss")
        return age + since
    cmds = _restores(repo, cwd, mine)
    output.err(f"not undone: {why} than that loss (see: git snapshot undo --dry-run)")
    if not cmds:
        raise UserError(
            "to undo that report all the same: git snapshot losses, then git snapshot restore "
            "ID PATH"
        )
    raise UserError(
        "to undo that report all the same (what it replaces is kept in a snapshot first): " + cmds
    )


def _damaged_log(damage: list[tuple[str, int, float | None]], last: dict[str, Any] | None) -> None:
    """Name the loss log's entries that cannot be read; refuse when one of them may be newer
    than the latest report that can (*last*): undoing that one would write its versions
    over what a later command left, the report the user means being the one unread."""
    newer = [
        d for d in damage if last is None or d[2] is None or d[2] > float(last.get("time") or 0)
    ]
    for line in lossrecord.damage_lines([d for d in damage if d not in newer[:1]]):
        output.err(line)
    if not newer:
        return
    latest = f" than the latest one it can read ({last['command']}, {last['when']})" if last else ""
    raise UserError(
        f"{lossrecord.damage_lines(newer[:1])[0]}: one may be a later loss report{latest}, so "
        "undo does not pick one; see git snapshot losses and git snapshot list, then: "
        "git snapshot restore ID PATH"
    )


def _not_put_back(repo: gitrepo.Repo, cwd: str, gone: list[dict[str, Any]]) -> str:
    """'not put back: PATHS: snapshot N, which held them, was forgotten since (...)' for the
    parts *gone* of a report (_moment) whose snapshots were forgotten."""
    words = [  # as typed here (a dropped stash's, a removed worktree's: the folder undo fills)
        os.fsencode(str(i.get("to") or i.get("removed_worktree")))
        if _elsewhere(i)
        else lossreport.rel_to(repo, cwd, os.fsencode(p))
        for i in gone
        for p in ([""] if _elsewhere(i) else _named(i))
    ]
    ids = ", ".join(_id(i) for i in gone)
    was = "was" if len(gone) == 1 else "were"
    return (
        f"not put back: {', '.join(lossreport.fold(words))}: snapshot{'s' * (len(gone) > 1)} "
        f"{ids}, which held {'it' if len(words) == 1 else 'them'}, {was} {GONE} "
        "(forget or prune)"
    )


def _moment(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The latest report of *items* with the others of the same command and moment: one per
    snapshot holding what it lost (findlosses.find_losses: what a restore had just written is in
    the restore's source snapshot, the rest in its pre-restore one; guards.report: each
    stash entry a `stash clear` dropped, each --to a folder of its own), oldest first."""
    if not items:
        return []
    last = items[-1]
    return [
        i
        for i in items
        if i.get("time") == last.get("time")
        and i.get("command") == last.get("command")
        and not (i.get("removed_worktree") or i.get("repo"))
    ] or [last]


def _elsewhere(item: dict[str, Any]) -> bool:
    """Whether report *item* is undone into a folder of its own (a dropped stash entry, a
    removed worktree), not over this worktree's paths."""
    return bool(item.get("to") or item.get("removed_worktree"))


def _together(group: list[dict[str, Any]]) -> dict[str, Any]:
    """The last report of *group* (_moment) naming every path the group's restore commands
    name in this worktree ("restore") and every folder they write elsewhere ("into")."""
    return {
        **group[-1],
        "restore": [p for item in group if not _elsewhere(item) for p in _named(item)],
        "into": [str(i.get("to") or i.get("removed_worktree")) for i in group if _elsewhere(i)],
    }


def _undo_one(
    repo: gitrepo.Repo, cwd: str, last: dict[str, Any], dry_run: bool, done: list[Snapshot | None]
) -> int:
    """Restore what loss report *last* named, from its snapshot (restore itself: a pre-restore
    snapshot first, appended to *done*, nothing written outside the worktree)."""
    # here: `losses` (a listing) does not import the restore code (47 M instructions, ~12 ms)
    from git_snapshot.commands.restore import cmd_restore

    top = repo.toplevel
    # a dropped stash ('to'), or a worktree removed whole that the watcher reported here
    # ('removed_worktree'): it comes back where the report's command puts it, never over this one
    to = last.get("to") or last.get("removed_worktree")
    if last.get("repo"):  # the repository that was here before: into this worktree, as --to
        return cmd_restore(
            cwd=top,
            snapshot_id=_id(last),
            to=top,
            paths=_named(last),
            dry_run=dry_run,
            done=done,
            this_store=True,  # (this store's report names this store's snapshot)
        )
    if to and last.get("removed_worktree"):
        return cmd_restore(
            cwd=top,
            snapshot_id=str(last["snapshot"]),
            to=str(to),
            paths=_named(last),  # as its printed command names them (from top)
            dry_run=dry_run,
            done=done,
            this_store=True,  # (this store's report names this store's snapshot)
        )
    if to:
        return cmd_restore(
            cwd=top,
            snapshot_id=str(last["snapshot"]),
            to=str(to),
            # (run's staged versions: those the command threw away, not all it saved)
            paths=[str(p) for p in last.get("restore") or []],
            dry_run=dry_run,
            done=done,
            this_store=True,
        )
    # the paths the report names (never the whole tree, which would also put back what
    # the command changed on purpose)
    # (absolute, so that its report names them as typed here)
    paths = [os.path.join(top, p) for p in _named(last)]
    return cmd_restore(
        cwd=cwd,
        snapshot_id=str(last["snapshot"]),
        paths=paths,
        dry_run=dry_run,
        done=done,
        this_store=True,
    )


def _already_undone(
    repo: gitrepo.Repo,
    cwd: str,
    last: dict[str, Any],
    note: dict[str, Any],
    held: dict[int, float],
) -> str:
    """Why undo refuses to undo the latest report again (it would write the same versions
    over whatever was done since), and the command that puts back what that undo replaced."""
    done = (
        f"the latest loss report ({last['command']}, {last['when']}) was already undone "
        f"(git snapshot undo, {note.get('when', '?')})"
    )
    head = f"{done}; {no_hook(repo)}"
    saved = note.get("pre_restore")
    into = last.get("into") or []
    if into or not isinstance(saved, int):  # written elsewhere (--to): nothing of this worktree
        folders = ", ".join(output.display(os.fsencode(t)) for t in into)
        # (the folders the undo wrote into, said with it: after NO_HOOK they read as a part
        # of its `restore --newest PATH` advice, RED40 F note)
        where = f" into {folders}" if into else ""
        return f"{done}{where}; {no_hook(repo)}; older reports: git snapshot losses"
    # (a repair since may have renumbered it: RED34 D8)
    now = losslog.now_numbered(held, saved, note.get("pre_restore_time"))
    if now is None:
        return (
            f"{head}; what it wrote over was in snapshot {saved}, {GONE} (forget or prune); "
            "older reports: git snapshot losses"
        )
    saved = now
    named = [os.fsencode(p) for p in _named(last)]
    absent = set(_absent(repo, saved, named))  # the undo created them: nothing to put back
    words = [lossreport.rel_to(repo, cwd, p) for p in named if p not in absent]
    none = [lossreport.rel_to(repo, cwd, p) for p in named if p in absent]
    before = (
        f"it created {', '.join(lossreport.fold(none))} (not in snapshot {saved}, taken before it)"
        if none
        else ""
    )
    if not words:
        return f"{head}; {before}"
    args = output.path_args(words)
    return (
        f"{head}; what it wrote over is in snapshot {saved}, to put that back: "
        f"git snapshot restore {saved} {args}" + (f"; {before}" if before else "")
    )


def _absent(repo: gitrepo.Repo, snap_id: int, paths: list[bytes]) -> list[bytes]:
    """Those of *paths* (from the worktree's top) that snapshot *snap_id* does not hold (a
    restore command naming them fails); [] when that cannot be told."""
    from git_snapshot.store import history

    try:
        with Store() as store:
            key = identity.known_source(store, repo)
            snap = next(s for s in store.snapshots(key) if s.id == snap_id) if key else None
            if snap is None:
                return []
            return history.under(store, snap.root, paths, [])[1]
    except Exception:  # a courtesy of the refusal: never its failure
        return []
