"""git snapshot repair: rebuild a lost or damaged index from the packs."""

from __future__ import annotations

import os

from git_snapshot import identity
from git_snapshot import output
from git_snapshot.commands.common import existing_store
from git_snapshot.store import Store
from git_snapshot.store.repair import RepairReport
from git_snapshot.store.repair import repair
from git_snapshot.words import first_of


def cmd_repair(*, dry_run: bool = False) -> int:
    existing_store("repair")
    with Store(repairing=True) as store:
        report = repair(store, dry_run=dry_run)
        where = store.index_path
        rejoined: list[identity.Rejoined] = []
        labels: dict[str, str] = {}
        if not dry_run:  # (a dry run's rebuilt index is thrown away: nothing to look at)
            # after the rebuild: what a moved repository took over was in the index alone
            with store.lock(exclusive=True):
                rejoined = identity.rejoin_moved(store, report.ok)
            labels = identity.labels([k for k, _ in store.index.sources()])
    _print(report, where, dry_run)
    _print_moved(rejoined, labels)
    return 0 if report.ok else 1


def _print_moved(rejoined: list[identity.Rejoined], labels: dict[str, str]) -> None:
    """A line per history of a moved repository given back to it, or left apart (RED36
    B-repair): list, log and the numbers printed before it depend on it."""
    for r in rejoined:
        ids = first_of([str(i) for i in r.ids], 10)
        old, new = (output.display(os.fsencode(_main(k))) for k in (r.old, r.new))
        if r.joined:
            print(
                f"gave the repository moved to {new} back its snapshot(s) {ids}, taken at "
                f"{old} before it moved (the packs name that place)"
            )
            continue
        label = labels.get(r.old, identity.tagged(r.old))
        print(
            f"snapshot(s) {ids} of the repository once at {old} (gone) stay apart from the one "
            f"of its id at {new}, whose numbers do not go on from them (a copy's, or that "
            f"cannot be told): list them with: git snapshot list {output.option('--repo', label)}"
        )


def _main(key: str) -> str:
    """The main worktree of the repository *key* (its common dir's folder; a bare one's
    common dir)."""
    common = identity.path_of(key)
    return os.path.dirname(common) if os.path.basename(common) == ".git" else common


def _print(report: RepairReport, where: str, dry_run: bool) -> None:
    for name, why in report.bad_packs:
        kept = report.salvaged.get(name)
        also = (
            f"; {kept} object(s) past it kept from the old index (each read back intact)"
            if kept
            else ""
        )
        if name in report.rewritten:
            also += f"; rewritten as pack {report.rewritten[name]}, the damaged one deleted"
        print(f"damaged pack {name}: {why}{also}")
    for name, why in report.unreadable:
        kept = report.salvaged.get(name)
        also = f"; {kept} object(s) of it kept from the old index (each read back intact)"
        print(
            f"could not read pack {name} now ({why}){also if kept else ''}: it is kept as it "
            "is; what of it the rebuilt index lacks comes back with a repair once it reads"
        )
    # a pack that could not be read may hold what is missing: it is not known to be lost
    lacking = "no copy in the packs read" if report.unreadable else "no intact copy left"
    for source, seq, why in report.dropped:
        print(f"dropped snapshot {seq} of {_shown(source)}: its top folder is gone ({why})")
    for source, seq, missing in report.incomplete:
        print(f"snapshot {seq} of {_shown(source)}: {missing} file(s) have {lacking}")
    for source, seq, number in report.renumbered:
        print(
            f"renumbered snapshot {seq} of {_shown(source)} to {number}: a damaged index had "
            f"given number {seq} to two snapshots (the earlier one keeps it)"
        )
    if report.undone_packs:
        verb = "would remove" if dry_run else "removed"
        stay = ", ".join(f"{seq} of {_shown(source)}" for source, seq in report.undone)
        print(
            f"{verb} {len(report.undone_packs)} tombstone pack(s) of a forget that was "
            "interrupted before it took effect"
            + (f": snapshot(s) {stay} stay, as the index lists them" if stay else "")
            + " (run git snapshot forget again to forget them)"
        )
    if report.unrestated:
        verb = "would remove" if dry_run else "removed"
        print(
            f"{verb} {len(report.unrestated)} pack(s) of a restore's note of what it wrote "
            "that never reached the index (the restore was killed as it wrote it)"
        )
    if report.restated:
        verb = "would complete" if dry_run else "completed"
        print(
            f"{verb} {len(report.restated)} restore's note(s) of what it wrote that the index "
            "had not taken (the restore was killed as it wrote it)"
        )
    if report.recovered:
        ids = ", ".join(f"{seq} of {_shown(source)}" for source, seq in report.recovered)
        print(f"recovered snapshot(s) the old index lacked: {ids}")
    verb = "would rebuild" if dry_run else "rebuilt"
    line = (
        f"{verb} {_shown(where)} from {report.packs} pack(s): {report.snapshots} snapshot(s), "
        f"{report.objects} object(s)"
    )
    if report.old_index != "usable":
        line += f" (the old index was {report.old_index})"
    if report.forgotten:
        line += f"; {report.forgotten} forgotten snapshot(s) stay forgotten"
        if report.old_index != "usable":  # which forgets had taken effect is not known
            line += ": " + first_of(
                [f"{seq} of {_shown(source)}" for source, seq in report.forgotten_ids], 20
            )
    print(line)
    if not (report.dropped or report.incomplete) and all(
        bad in report.whole for bad in report.bad_packs
    ):  # only group tables damaged, every member re-derived from its content
        if report.bad_packs:
            still = [bad[0] for bad in report.bad_packs if bad[0] not in report.rewritten]
            output.err(
                "damaged group tables (above): every member was re-derived from its content "
                "and reads back intact: nothing is lost"
                + (
                    " (verify --read-data still names the pack's damaged table: there was no "
                    "room to copy it)"
                    if still
                    else ""
                )
            )
    elif not (report.dropped or report.incomplete) and all(
        bad[0] in report.salvaged or bad in report.whole for bad in report.bad_packs
    ):  # only headers damaged: every object read back intact and was kept
        if report.bad_packs:
            output.err(
                "damaged pack headers (above): every object was kept and reads back intact, "
                "but an index rebuilt from the packs alone would lose those past the damage; "
                "keep this index (back the store up with cp -a)"
            )
    elif report.dropped or report.incomplete or report.bad_packs:
        output.err(
            f"some data has {lacking}; the next snapshot stores afresh whatever is "
            "still in your worktrees; see what is affected with: git snapshot verify"
        )
    if report.unreadable:
        output.err(
            f"{len(report.unreadable)} pack(s) could not be read (above): snapshots and "
            "files they hold may be missing from the index until they read again; check the "
            "disk (dmesg) and the files' owner and permissions, then run git snapshot repair "
            "again"
        )


def _shown(text: str) -> str:
    """A repository's key (its path) or the store's path, as display shows a name: a folder
    named with a newline or an escape sequence stays on its line and off the terminal."""
    return output.display(os.fsencode(text))
