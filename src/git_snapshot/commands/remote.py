"""``git snapshot remote add|list|remove|prune``, and :func:`open_store`, which gives the read
commands (list, log, show, cat, restore, export) the store ``--remote NAME`` names."""

from __future__ import annotations

import contextlib
import os
import sys
import time

from git_snapshot import output
from git_snapshot.errors import UserError
from git_snapshot.store import Snapshot
from git_snapshot.store import Store


def open_store(remote: str | None) -> Store:
    """The local store, or with *remote* the cache store mirroring that remote (synced now;
    its packs are fetched when a read needs them)."""
    if remote is None:
        return Store()
    from git_snapshot.store.location import store_dir
    from git_snapshot.store.remote import config
    from git_snapshot.store.remote.cache import RemoteStore
    from git_snapshot.store.remote.repo import Remote

    conf = config.get(remote)
    rem = Remote(conf)
    try:
        rem.check()
        cache = RemoteStore(rem, str(store_dir()))
    except BaseException:
        rem.close()
        raise
    try:
        cache.sync()
    except BaseException:
        cache.close()
        raise
    note = cache.unreadable_note()
    if note:
        output.err(note)
    return cache


def damage_advice(store: Store) -> str | None:
    """For a store read from a remote (--remote), what to do about damage found there; None
    for the local store (its own advice: output.print_damaged)."""
    remote = getattr(store, "remote", None)  # a RemoteStore's (not imported for a local read)
    if remote is None:
        return None
    return (
        "see every damaged remote object with: git snapshot verify --remote "
        f"{remote.name} --read-data"
    )


def prefetch(store: Store, snap: Snapshot) -> None:
    """With --remote: fetch the packs *snap* needs, several at once (restore, export)."""
    if "git_snapshot.store.remote.cache" not in sys.modules:
        return  # no RemoteStore made: a local store (its import, ~7 ms, is not paid then)
    from git_snapshot.store.remote.cache import RemoteStore

    if isinstance(store, RemoteStore):
        store.prefetch([snap])


def cmd_remote_add(*, name: str, url: str, key_file: str | None = None, cwd: str = ".") -> int:
    from git_snapshot.store.backend import check_url
    from git_snapshot.store.remote import config
    from git_snapshot.store.remote import crypto
    from git_snapshot.store.remote.repo import Remote
    from git_snapshot.store.remote.repo import WrongKey

    config.check_name(name)
    if url and "://" not in url:  # a directory's path, as git remote add takes one
        import pathlib

        url = pathlib.Path(os.path.abspath(os.path.join(cwd, os.path.expanduser(url)))).as_uri()
    check_url(url)
    remotes = config.load()
    if name in remotes:
        raise UserError(
            f"remote {name} exists already ({remotes[name].url}); remove it first with: "
            f"git snapshot remote remove {name}"
        )
    path = config.key_path(name)
    if os.path.exists(path):
        raise UserError(
            f"a key file for {name} exists already at {path}; move it away (it may be the only "
            "copy of an older remote's key) or choose another name"
        )
    secret = _given_key(key_file, name, url) if key_file else crypto.new_secret()
    conf = config.RemoteConf(name, url, path)
    with Remote(conf, secret) as remote:
        try:
            created = remote.init()
        except WrongKey as exc:
            again = (
                f"{_add_command(name, url, 'FILE')} (a copy of the key file from the machine "
                "that made it)"
            )
            their = f"key {exc.want}" if exc.want else "none of its documents opens with it"
            if key_file:  # (the key is not written under its own name: it does not fit)
                raise UserError(
                    f"wrong key: {key_file} (key {exc.have}) is not the key {url}'s data was "
                    f"encrypted with ({their}); nothing was written there; add it with the "
                    f"right one: {again}"
                ) from None
            raise UserError(  # (never a new key over data whose config is gone: RED34)
                f"{url} already holds snapshots encrypted with another key; nothing was "
                f"written there; add it with that key: {again}"
            ) from None
    crypto.write_key_file(path, secret)
    remotes[name] = conf
    config.save(remotes)
    if created:
        print(f"added remote {name}: {url} (new, encrypted with the key in {path})")
    else:
        print(f"added remote {name}: {url} (holding snapshots already; key {path})")
    if not key_file:
        print(
            "This key is the only way to read what you push. Keep a copy somewhere other than "
            "this machine (a password manager); it is printed this once:"
        )
        print(f"  {crypto.KEY_PREFIX}{__import__('base64').b64encode(secret).decode()}")
        print(
            f"On another machine: write the {crypto.KEY_PREFIX}... line into a file only you can "
            f"read, then: {_add_command(name, url, 'FILE')}"
        )
    return 0


def _add_command(name: str, url: str, key: str) -> str:
    """The ``remote add`` command to paste: the URL one shell word (an S3 URL's
    ``?endpoint=...&region=...`` ran cut at the ``&``; review40 RD1). *name* is a remote's
    name (config.NAME_RE: nothing to quote)."""
    return f"git snapshot remote add {name} {output.shell_quote(os.fsencode(url))} --key {key}"


def _given_key(key_file: str, name: str, url: str) -> bytes:
    """The secret of ``remote add --key FILE``. A key pasted there (the gsk1: line remote add
    printed, the natural thing to paste) is refused without being repeated: the error went
    to stderr, where scrollback and CI logs keep it (RED40 D1 finding 4). It is not taken
    either: on the command line it is in the shell's history and, while it runs, in every
    user's ps; a file only its owner reads is not."""
    from git_snapshot.store.remote import crypto

    if not os.path.exists(key_file) and crypto.looks_like_key(key_file):
        raise UserError(
            "--key takes a FILE holding the key, not the key itself (not repeated here: it is "
            "secret; remove it from your shell's history): write the gsk1:... line into a file "
            f"only you can read, e.g. (umask 077; cat > {name}.key), paste the line, Ctrl-D; "
            f"then: {_add_command(name, url, f'{name}.key')}"
        )
    return crypto.read_key_file(
        key_file, advice="--key takes the file holding the remote's gsk1:... key line"
    )


def _auto_push(store_path: str, name: str) -> str:
    """One line for ``remote list``: the auto-push state (store/remote/auto.py keeps it), and
    how many hook snapshots wait for it (RED39 F4: "last pushed 1m ago" alone hid them)."""
    from git_snapshot.store.remote import auto

    state = auto.read_state(store_path, name)
    waiting = auto.pending(store_path, name)
    if not state and not waiting:
        return "never auto-pushed"
    runs = auto.running(store_path, name)
    parts = []
    if runs and state.get("phase") == "pushing":
        parts.append("pushing now")
    if state.get("last_ok"):
        parts.append("last pushed " + output.age(float(state["last_ok"])))
    if state.get("last_error"):
        failed = output.age(float(state.get("last_failed", 0)))
        parts.append(f"last try failed {failed}: {state['last_error']}")
    if waiting:
        parts.append(f"{waiting} hook snapshot(s) not pushed yet" + _when(state, runs, name))
    return "; ".join(parts) or "started, not finished yet"


def _when(state: dict[str, object], runs: bool, name: str) -> str:
    """When the pending snapshots go: the waiting pusher's next try, or (none runs: it gave
    up, or the machine restarted) the next hook's."""
    if runs and state.get("phase") == "waiting":
        left = max(0, int(float(str(state.get("next_try", 0))) - time.time()))
        return f", next try in {left} s"
    if runs:
        return ""
    return f", sent by the next hook snapshot's push or now by: git snapshot push {name}"


def configured_auto_push(cwd: str) -> str | None:
    """``snapshot.autoPush`` as git reads it in *cwd* (any level; outside a repository the
    global and system ones), or None when unset."""
    from git_snapshot.gitrun import run_git

    value = run_git(cwd, "config", "--get", "snapshot.autoPush", check=False)
    return value.decode(errors="replace").strip() or None


def auto_push_health(store_path: str, name: str, known: list[str]) -> str:
    """A line saying how auto-pushing to *name* goes: a name that matches no remote pushes
    nothing, and a hook never says so (RED39 F7)."""
    if name not in known:
        there = f"remotes: {', '.join(known)}" if known else "no remote yet"
        return (
            f"snapshot.autoPush is {name!r}, but no remote has that name ({there}): hook "
            "snapshots are not pushed anywhere; set it to a remote's name where it is set "
            "(git config --show-origin snapshot.autoPush)"
        )
    from git_snapshot.store.remote import auto

    failing = "FAILING: " if auto.read_state(store_path, name).get("last_error") else ""
    return f"to {name}: {failing}{_auto_push(store_path, name)}"


def cmd_remote_list(*, json_out: bool = False, cwd: str = ".") -> int:
    from git_snapshot.store.location import store_dir
    from git_snapshot.store.remote import config

    remotes = config.load()
    store = str(store_dir())
    items = [
        {"name": r.name, "url": r.url, "key": r.key_file, "auto_push": _auto_push(store, r.name)}
        for r in sorted(remotes.values(), key=lambda r: r.name)
    ]
    target = configured_auto_push(cwd)
    if target and target not in remotes:  # (a known one's state is its row's)
        output.err(auto_push_health(store, target, sorted(remotes)) + _last_error(store, target))
    if json_out:
        output.print_json(items)
        return 0
    if not items:
        print("no remotes; add one with: git snapshot remote add NAME URL")
        return 0
    rows = [[i["name"], i["url"], i["key"], i["auto_push"]] for i in items]
    print(output.table(["NAME", "URL", "KEY FILE", "AUTO-PUSH"], rows))
    return 0


def _last_error(store_path: str, name: str) -> str:
    """ "; its last try failed 3m ago: ..." when a push to *name* was tried, else ""."""
    from git_snapshot.store.remote import auto

    state = auto.read_state(store_path, name)
    if not state.get("last_error"):
        return ""
    failed = output.age(float(state.get("last_failed", 0)))
    return f"; its last try failed {failed}: {state['last_error']}"


def cmd_remote_remove(*, name: str) -> int:
    from git_snapshot.store.remote import config

    remotes = config.load()
    conf = config.get(name)
    del remotes[name]
    config.save(remotes)
    kept = ""
    if os.path.exists(conf.key_file):  # never delete a key: it may be the only copy
        moved = f"{conf.key_file}.removed-{time.strftime('%Y%m%d-%H%M%S')}"
        with contextlib.suppress(OSError):
            os.replace(conf.key_file, moved)
            kept = f"; its key is kept in {moved}"
    print(f"removed remote {name} ({conf.url}); nothing on it was deleted{kept}")
    return 0


def cmd_remote_prune(*, name: str, keep_last: int | None, dry_run: bool) -> int:
    from git_snapshot.store.location import store_dir
    from git_snapshot.store.remote import config
    from git_snapshot.store.remote.cache import RemoteStore
    from git_snapshot.store.remote.maintain import prune_remote
    from git_snapshot.store.remote.repo import Remote

    if keep_last is not None and keep_last < 1:
        raise UserError("--keep-last takes a number of snapshots, 1 or more")
    conf = config.get(name)
    with Remote(conf) as remote:
        remote.check()
        with RemoteStore(remote, str(store_dir())) as cache:
            report = prune_remote(remote, cache, keep_last, dry_run)
    verb = "would drop" if dry_run else "dropped"
    print(
        f"{verb} {report.snapshots} snapshot(s) and {report.packs} pack(s) "
        f"({output.size(report.bytes)}) from {name}; {report.locks} stale lock(s)"
    )
    return 0
