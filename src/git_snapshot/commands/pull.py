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
        labels = identity.labels([s for s, _, _ in r.renumbered])
    for source, was, now in r.renumbered:
        print(f"{labels[source]}:{was} is {labels[source]}:{now} here (that number was taken)")
    print(
        f"pulled {r.snapshots} snapshot(s) and {r.packs} pack(s) ({output.size(r.bytes)}) "
        f"from {conf.name}"
    )
    return 0
