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
        # as list labels them (each key once: one named twice got a #tag, "repo#69e932:2")
        keys = [k for k, _ in store.index.sources()] + [s for s, _ in r.not_pulled]
        labels = identity.labels(list(dict.fromkeys(keys)))
    for source, was, now in r.renumbered:
        print(f"{labels[source]}:{was} is {labels[source]}:{now} here (that number was taken)")
    for _name, why in r.damaged:
        print(output.paint(f"DAMAGED remote object {why}", "red"))
    for source, number in r.not_pulled:
        print(f"not pulled: {labels[source]}:{number} (it needs a damaged or missing pack)")
    line = (
        f"pulled {r.snapshots} snapshot(s) and {r.packs} pack(s) ({output.size(r.bytes)}) "
        f"from {conf.name}"
    )
    if r.forgotten:
        line += (
            f"; left out {r.forgotten} snapshot(s) this store forgot (read them with "
            f"--remote {conf.name})"
        )
    print(line)
    if r.rebuilt:
        output.err(_rebuilt_line(conf.name, r.rebuilt))
    if r.damaged:
        output.err(
            f"{len(r.damaged)} pack(s) of remote {conf.name} are damaged or missing (listed "
            f"above): {len(r.not_pulled)} snapshot(s) that need them were not pulled, every "
            f"other one was; a git snapshot push from a machine that holds them sends them "
            f"again (see git snapshot verify --remote {conf.name} --read-data)"
        )
        return 1
    if note:
        output.err(note)
    return 1 if note or r.rebuilt else 0


def _rebuilt_line(name: str, idents: list[str]) -> str:
    """One line on the remote packs pulled without their index documents."""
    return (
        f"remote {name}: the index document of {len(idents)} pack(s) is missing or damaged "
        f"({', '.join(f'index/{i}' for i in idents[:3])}{' ...' if len(idents) > 3 else ''}); "
        "they were pulled by what each pack holds: a git snapshot push from here writes "
        "those documents again"
    )
