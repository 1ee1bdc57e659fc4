"""``git snapshot push [NAME]``: copy every pack and snapshot a remote lacks."""

from __future__ import annotations

from git_snapshot import output
from git_snapshot.errors import UserError
from git_snapshot.store import Store
from git_snapshot.words import first_of


def _push_once(name: str | None) -> tuple[str, list[str]]:
    """The push's line, and its warnings (each a line of its own)."""
    from git_snapshot.commands.common import store_labels
    from git_snapshot.store.remote import config
    from git_snapshot.store.remote.cache import RemoteStore
    from git_snapshot.store.remote.push import push
    from git_snapshot.store.remote.repo import Remote

    conf = config.get(name)
    with Store() as store, Remote(conf) as remote:
        remote.check()
        with RemoteStore(remote, store.path) as cache:
            r = push(store, remote, cache, lambda: _waiting(conf.name))
            note = cache.unreadable_note()
        # as list --all labels them ("proj#5c1e2a:2" counted two skipped snapshots of one
        # repository as two repositories of its name, RED40 B F3)
        labels = store_labels(store, *(s for s, _, _ in r.skipped))
    line = (
        f"pushed {r.snapshots} snapshot(s) and {r.packs} pack(s) ({output.size(r.bytes)}) "
        f"to {conf.name}; {r.already} already there"
    )
    if r.pruned:
        line += f"; {r.pruned} pruned from {conf.name} earlier, not sent again"
    if r.replaced:
        line += (
            f"; replaced {r.replaced} damaged remote object(s) "
            f"({output.size(r.replaced_bytes)}) with this store's intact copies"
        )
    if r.resent:
        line += (
            f"; sent again {r.resent} pack(s) missing from the remote "
            f"({output.size(r.resent_bytes)}) from this store"
        )
    warn = [f"not pushed: {labels[src]}:{n} ({why})" for src, n, why in r.skipped]
    if r.unmended:
        warn.append(_unmended_line(conf.name, r.unmended))
    if r.lost:
        warn.append(_lost_line(conf.name, r.lost))
    return line, warn + ([note] if note else [])


def _waiting(name: str) -> None:
    output.err(f"waiting for another push from this store to remote {name} to finish...")


def _lost_line(name: str, lost: list[tuple[str, str]]) -> str:
    """One line on the packs remote snapshots need that are missing there, not sent again."""
    return (
        f"remote {name}: {len(lost)} pack(s) its snapshots need are missing from it and were "
        f"not sent again: {_some(lost)}; a git snapshot push from a machine that holds them "
        "sends them again"
    )


def _unmended_line(name: str, unmended: list[tuple[str, str]]) -> str:
    """One line on the damaged remote objects this push could not replace."""
    return (
        f"remote {name}: {len(unmended)} object(s) damaged on the remote and not replaced: "
        f"{_some(unmended)}; on a machine that holds them, git snapshot verify --remote {name} "
        "--read-data then git snapshot push replaces them"
    )


def _some(items: list[tuple[str, str]], shown: int = 3) -> str:
    """The first *shown* of *items* (what, why), "a (x), b (y), c (z) and 2 more"."""
    return first_of([output.one_line(f"{what} ({why})") for what, why in items], shown)


def cmd_push(*, name: str | None = None, auto: bool = False) -> int:
    if auto:
        assert name is not None
        return _auto(name)
    line, warns = _push_once(name)
    print(line)
    for warn in warns:  # (one err each: one_line shows a newline inside one as \n)
        output.err(warn)
    return 1 if warns else 0


def _auto(name: str) -> int:
    """The background push a hook started: its loop, waits and outcome are
    store.remote.auto.run's (one pusher per store and remote, retried with back-off)."""
    from git_snapshot.store.location import store_dir
    from git_snapshot.store.remote import auto

    auto.run(str(store_dir()), name, lambda: _auto_once(name))
    return 0


def _auto_once(name: str) -> str | None:
    """One background push: its error, or None."""
    try:
        _push_once(name)
    except UserError as exc:
        return str(exc)
    except Exception as exc:
        return f"internal error: {exc!r}"
    return None
