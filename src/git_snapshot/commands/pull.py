"""``git snapshot pull [NAME]``: bring a remote's snapshots into the local store."""

from __future__ import annotations

from git_snapshot import output
from git_snapshot.store import Store


def cmd_pull(*, name: str | None = None) -> int:
    from git_snapshot import identity
    from git_snapshot.store.remote import config
    from git_snapshot.store.remote.cache import RemoteStore
    from git_snapshot.store.remote.pull import pull
    from git_snapshot.store.remote.repo import Remote

    conf = config.get(name)
    with Store() as store, Remote(conf) as remote:
        remote.check()
        with RemoteStore(remote, store.path) as cache:
            r = pull(store, remote, cache)
            note = cache.unreadable_note()
        labels = identity.labels([s for s, _, _ in r.renumbered] + [s for s, _ in r.not_pulled])
    for source, was, now in r.renumbered:
        print(f"{labels[source]}:{was} is {labels[source]}:{now} here (that number was taken)")
    for _name, why in r.damaged:
        print(output.paint(f"DAMAGED remote object {why}", "red"))
    for source, number in r.not_pulled:
        print(f"not pulled: {labels[source]}:{number} (it needs a damaged pack)")
    print(
        f"pulled {r.snapshots} snapshot(s) and {r.packs} pack(s) ({output.size(r.bytes)}) "
        f"from {conf.name}"
    )
    if r.damaged:
        output.err(
            f"{len(r.damaged)} pack(s) of remote {conf.name} are damaged (listed above): "
            f"{len(r.not_pulled)} snapshot(s) that need them were not pulled, every other one "
            f"was; see 'git snapshot verify --remote {conf.name} --read-data'"
        )
        return 1
    if note:
        output.err(note)
        return 1
    return 0
