from __future__ import annotations

import os
from collections.abc import Sequence

from git_snapshot import gitrepo
from git_snapshot import output
from git_snapshot.commands.common import existing_store
from git_snapshot.commands.common import pick
from git_snapshot.store import Store
from git_snapshot.store.verify import object_count
from git_snapshot.store.verify import verify

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from git_snapshot.store.index import Snapshot
    from git_snapshot.store.remote.cache import RemoteStore
    from git_snapshot.store.remote.repo import Remote


def cmd_verify(
    *, cwd: str, ids: Sequence[str] = (), read_data: bool = False, json_out: bool = False
) -> int:
    repo = gitrepo.find_repo(cwd) if ids else None  # (outside one: says so first)
    existing_store("verify")
    progress = output.Progress("verify", unit="objects")
    with Store() as store, store.lock():  # no gc between the choice and the check
        snaps = None
        if repo is not None:
            snaps = [pick(store, repo, i) for i in ids]
        if snaps is None:  # all of them: every object the index lists is checked once
            progress.total = object_count(store)
        report = verify(store, snaps, read_data=read_data, progress=progress.count)
        repos = dict(store.index.sources())
    progress.done()
    if json_out:
        output.print_json(
            {
                "ok": report.ok,
                "read_data": read_data,
                "snapshots": report.snapshots,
                "objects": report.objects,
                "problems": [
                    {
                        "repo": repos.get(p.source, p.source),
                        "snapshot": p.snapshot,
                        "path": p.path,
                        "message": p.message,
                    }
                    for p in report.problems
                ],
                "unindexed_packs": list(report.unindexed_packs),
                "unfinished_restore_notes": list(report.unfinished_notes),
                "damaged_leftover_packs": list(report.leftover_packs),
                "unreadable_packs": [{"pack": n, "why": w} for n, w in report.unreadable_packs],
                "damaged_packs": [{"pack": n, "why": why} for n, why in report.bad_packs],
                "orphan_packs": list(report.orphan_packs),
                "gc_leftover_packs": list(report.gc_leftovers),
            }
        )
        return 0 if report.ok else 1
    for p in report.problems:
        where = output.display(os.fsencode(repos.get(p.source, p.source)))
        print(
            output.paint(f"DAMAGED snapshot {p.snapshot} of {where}: {p.path}: {p.message}", "red")
        )
    for name, why in report.bad_packs:
        print(
            output.paint(
                f"DAMAGED pack {name}: {why} (what the index locates there is checked above; "
                "an index rebuilt from the packs alone would lose what lies past the damage)",
                "red",
            )
        )
    depth = "structure and data" if read_data else "structure (add --read-data to re-hash)"
    if report.unindexed_packs:
        print(
            f"{len(report.unindexed_packs)} pack(s) hold snapshots the index lacks (a snapshot "
            "interrupted before it was listed); recover them with: git snapshot repair"
        )
    if report.unfinished_notes:
        print(
            f"{len(report.unfinished_notes)} pack(s) hold a stopped restore's note of what it "
            "wrote that the index has not taken (the restore was killed as it wrote it); "
            "complete it with: git snapshot repair (which removes it if its snapshot was "
            "forgotten since)"
        )
    if report.unreadable_packs:
        name, why = report.unreadable_packs[0]
        more = (
            f"; and {len(report.unreadable_packs) - 1} more"
            if len(report.unreadable_packs) > 1
            else ""
        )
        print(
            f"{len(report.unreadable_packs)} pack(s) the index lacks could not be read ({name}: "
            f"{why}{more}): they may hold snapshots; nothing removes them; once they read "
            "again (check the disk), recover what they hold with: git snapshot repair"
        )
    if report.leftover_packs:
        print(
            f"{len(report.leftover_packs)} damaged unreferenced pack(s): the index reads none "
            "of their objects from them (each is in another pack, as after an interrupted "
            "repair); remove them with: git snapshot repair"
        )
    if report.gc_leftovers:
        print(
            f"{len(report.gc_leftovers)} pack(s) left by an interrupted garbage collection "
            "(already out of the index); 'git snapshot prune' removes them"
        )
    if report.orphan_packs:  # (a repack's copies, killed before its index transaction, too)
        print(
            f"{len(report.orphan_packs)} unreferenced pack(s) from an interrupted snapshot or "
            "prune; 'git snapshot prune' reclaims them"
        )
    if report.ok:
        print(f"ok: {report.snapshots} snapshots, {report.objects} objects, {depth} checked")
        return 0
    if not report.problems:  # pack headers only: every snapshot reads back intact
        output.err(
            f"{len(report.bad_packs)} pack(s) with damaged headers (listed above); every "
            "snapshot reads back intact: keep this index (back the store up with cp -a), as "
            "'git snapshot repair' could not rebuild it from those packs alone"
        )
        return 1
    bad = sorted({(p.source, p.snapshot) for p in report.problems})
    output.err(
        f"{len(report.problems)} damaged path(s) in {len(bad)} snapshot(s); "
        "restore them from another snapshot or export what is intact"
    )
    return 1


def cmd_verify_remote(
    *,
    name: str,
    cwd: str = ".",
    ids: Sequence[str] = (),
    read_data: bool = False,
    json_out: bool = False,
) -> int:
    """``verify --remote NAME [ID...] [--read-data]``: check the remote's copy (see
    store.remote.maintain), or of the snapshots *ids* only (as ``--remote`` reads name them);
    names each damaged remote object and the snapshots needing it."""
    from git_snapshot.store.location import store_dir
    from git_snapshot.store.remote import config
    from git_snapshot.store.remote.cache import RemoteStore
    from git_snapshot.store.remote.maintain import verify_remote
    from git_snapshot.store.remote.repo import Remote

    with Remote(config.get(name)) as remote:
        remote.check()
        with RemoteStore(remote, str(store_dir())) as cache:
            snaps = _on_remote(cache, name, cwd, ids) if ids else None
            report = verify_remote(remote, cache, read_data, snaps)
            repos = dict(cache.index.sources())
            mendable = _mendable(remote, cache, [p.what for p in report.problems])
    if json_out:
        output.print_json(
            {
                "ok": report.ok,
                "remote": name,
                "read_data": read_data,
                "snapshots": report.snapshots,
                "packs": report.packs,
                "objects": [
                    {"object": p.what, "message": p.message, "snapshots": p.snapshots}
                    for p in report.problems
                ],
                "problems": [
                    {"repo": repos.get(s, s), "snapshot": i, "path": path, "message": m}
                    for s, i, path, m in report.paths
                ],
            }
        )
        return 0 if report.ok else 1
    for p in report.problems:
        needed = f" (needed by snapshot {', '.join(p.snapshots)})" if p.snapshots else ""
        line = output.one_line(f"DAMAGED remote object {p.what}: {p.message}{needed}")
        print(output.paint(line, "red"))  # (a hostile remote's names: escapes shown, not run)
    for source, snap, path, message in report.paths:
        where = output.display(os.fsencode(repos.get(source, source)))
        print(output.paint(f"DAMAGED snapshot {snap} of {where}: {path}: {message}", "red"))
    depth = "structure and data" if read_data else "structure (add --read-data to read the data)"
    if report.ok:
        print(f"ok: remote {name}: {report.snapshots} snapshots, {report.packs} packs, {depth}")
        return 0
    n = len(report.problems)
    read = sum(p.by_headers for p in report.problems)
    if not n:  # every remote object opens: the damage was in what was pushed
        what = "this machine's store may still hold those snapshots (git snapshot verify checks"
        what += " them)"
    elif mendable:
        what = f"git snapshot push replaces {mendable} of them from this machine's store"
        if mendable < n:
            what += "; for the others, run this verify then git snapshot push on a machine "
            what += "that holds them"
    elif read < n:
        what = "this machine's store holds none of them: run this verify then git snapshot "
        what += "push on a machine that holds them"
    else:
        what = ""
    if read:  # (a lost pack index document, its pack intact: RED39 F5)
        what += "; " if what else ""
        what += (
            f"the {read} pack index document(s) whose packs read whole: git snapshot pull "
            f"{name}, then git snapshot push {name}, writes them again from here"
        )
    output.err(f"remote {name}: {n} damaged object(s), {len(report.paths)} damaged path(s); {what}")
    return 1


def _on_remote(cache: RemoteStore, name: str, cwd: str, ids: Sequence[str]) -> list[Snapshot]:
    """The remote snapshots *ids* name (synced first); one the remote lacks is a UserError
    naming the push that sends it when this machine's store holds it: the IDs were left out,
    and "ok" was said of a snapshot never pushed (RED39 F6)."""
    from git_snapshot.commands.common import choose
    from git_snapshot.errors import UserError

    cache.sync()
    out = []
    for ref in ids:
        try:
            out.append(choose(cache, cwd, ref)[1])
        except UserError as exc:
            if _held_here(cwd, ref):
                raise UserError(
                    f"snapshot {ref} is not on remote {name} (see: git snapshot list --remote "
                    f"{name}); send it with: git snapshot push {name}"
                ) from None
            hint = str(exc).replace("git snapshot list", f"git snapshot list --remote {name}")
            raise UserError(f"remote {name}: {hint}") from None
    return out


def _held_here(cwd: str, ref: str) -> bool:
    """Whether this machine's store holds a snapshot *ref* names."""
    from git_snapshot.commands.common import choose
    from git_snapshot.errors import UserError
    from git_snapshot.store import location

    if not location.is_store(str(location.store_dir())):
        return False
    try:
        with Store() as store:
            choose(store, cwd, ref)
    except UserError:
        return False
    return True


def _mendable(remote: Remote, cache: RemoteStore, whats: list[str]) -> int:
    """How many of the damaged remote objects *whats* a push from this machine replaces."""
    from git_snapshot.store import location
    from git_snapshot.store.remote.push import mendable

    path = str(location.store_dir())
    if not whats or not location.is_store(path):
        return mendable(None, remote, cache, whats) if whats else 0
    with Store(path) as store:
        return mendable(store, remote, cache, whats)
