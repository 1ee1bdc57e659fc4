from __future__ import annotations

import os

from git_snapshot import output
from git_snapshot.commands.common import choose
from git_snapshot.commands.remote import damage_advice
from git_snapshot.commands.remote import open_store
from git_snapshot.commands.remote import prefetch
from git_snapshot.store.export import check_destination
from git_snapshot.store.export import compression_for
from git_snapshot.store.export import export
from git_snapshot.store.restorer import Damaged
from git_snapshot.words import first_of


def cmd_export(
    *,
    cwd: str,
    snapshot_id: str,
    file: str,
    repo_arg: str | None = None,
    remote: str | None = None,
    force: bool = False,
) -> int:
    compression_for(file)  # a bad name fails before any work
    shown = output.display(os.fsencode(file))  # one line, whatever the name holds
    path = os.path.join(cwd, file)  # -C as in git
    with open_store(remote) as store, store.lock():  # no gc between the choice and the read
        check_destination(store, path, force)
        _, snap = choose(store, cwd, snapshot_id, repo_arg)
        prefetch(store, snap)
        setid: list[bytes] = []
        try:
            count = export(store, snap, path, overwrite=force, setid=setid)  # leaves .git out
        except Damaged as exc:
            _setid_line(setid)
            print(f"exported snapshot {snap.id} ({exc.written} entries) to {shown}")
            output.print_damaged(exc.damaged, "exported", advice=damage_advice(store))
            return 1
    _setid_line(setid)
    print(f"exported snapshot {snap.id} ({count} entries) to {shown}")
    torn = snap.meta.get("changed_while_read") or []
    if torn:  # stored as last read (CHANGED_WHILE_READ), as show, cat and restore say
        output.err(
            f"warning: {len(torn)} file(s) kept changing while snapshot {snap.id} read them: "
            f"what the archive holds of them may mix versions (a torn read), e.g. "
            f"{output.display(os.fsencode(torn[0]))}"
        )
    return 0


def _setid_line(paths: list[bytes], shown: int = 5) -> None:
    """The set-id bits the archive left off, in restore's words (RED32 B5: export dropped
    them without a word); paths from the snapshot's top, as the archive names them."""
    if not paths:
        return
    some = first_of([output.display(p) for p in paths], shown)
    print(output.setid_line("left", len(paths), some))
