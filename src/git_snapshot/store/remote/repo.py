"""A remote as git-snapshot sees it: a backend, a key, and this layout under the URL:

```
config                 plaintext JSON: format, chunk size, key fingerprint, a sealed check value
packs/<id>             a local pack file, sealed (id: HMAC of the local pack name)
index/<id>             what packs/<id> holds (its objects' keys, types and places), sealed;
                       written after the pack: a pack without its index is an unfinished upload
snapshots/<id>         one snapshot: its record and the packs it needs (id: HMAC of the
                       record's key), and the store that took it ("origin": one store's keep
                       their number order), sealed; written after every pack it names
locks/<random>         a push (shared) or prune (exclusive) at work, sealed, with its host, pid
                       and time (rewritten every REFRESH_S; the time is only shown, never
                       compared with another machine's clock)
```

Every object but ``config`` is sealed under the remote's key (see crypto); the object store
sees only sizes, counts and random-looking names. Documents are JSON compressed with zstd.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import secrets
import socket
import time
from collections.abc import Iterator
from typing import Any

from git_snapshot.errors import UserError
from git_snapshot.store.backend import Backend
from git_snapshot.store.backend import NotFound
from git_snapshot.store.backend import open_backend
from git_snapshot.store.remote import crypto
from git_snapshot.store.remote.config import RemoteConf

FORMAT = 1
CHECK = b"git-snapshot remote v1"
STALE_S = 30 * 60  # a lock not refreshed for this long belongs to a dead process (as restic)
REFRESH_S = 5 * 60


class WrongKey(UserError):
    """The remote's data was encrypted with another key (fingerprints *have*, *want*)."""

    def __init__(self, message: str, have: str, want: str) -> None:
        super().__init__(message)
        self.have, self.want = have, want


_IDENT = re.compile(r"[0-9a-f]{32}")


def is_ident(name: str) -> bool:
    """Whether *name* has the shape of a remote object id (crypto.Key.name, a lock's name)."""
    return _IDENT.fullmatch(name) is not None


def check_apart(name: str, url: str, adding: bool = False) -> None:
    """A UserError when the directory of a ``file://`` remote is this machine's snapshot store
    or the remote cache, holds one or lies inside one: its ``packs/`` would be the store's own
    (a remote prune deleted the store's packs as remote packs no snapshot names; RED31). A
    remote is an off-machine copy: it shares no folder with the store."""
    if not url.startswith("file:"):
        return
    from git_snapshot.store.backend_file import parse_file_url
    from git_snapshot.store.location import store_dir
    from git_snapshot.store.remote.config import cache_dir

    path = os.path.realpath(parse_file_url(url))
    places = [("cache of remotes", cache_dir())]
    with contextlib.suppress(UserError):  # (a store refused: every command says so itself)
        places.insert(0, ("snapshot store", store_dir()))
    for what, place in places:
        place = os.path.realpath(place)
        if path == place:
            how = f"is this machine's {what}"
        elif _below(path, place):
            how = f"is inside this machine's {what} ({place})"
        elif _below(place, path):
            how = f"holds this machine's {what} ({place})"
        else:
            continue
        then = (
            "choose a folder elsewhere (another disk, a mounted share)"
            if adding
            else f"nothing was read or written there; remove it with: git snapshot remote "
            f"remove {name}, and add a folder elsewhere (another disk, a mounted share)"
        )
        raise UserError(f"remote {name} ({path}) {how}: a remote cannot share it; {then}")


def _below(path: str, parent: str) -> bool:
    return os.path.commonpath([path, parent]) == parent and path != parent


class Remote:
    def __init__(self, conf: RemoteConf, secret: bytes | None = None) -> None:
        self.conf = conf
        self.name = conf.name
        check_apart(conf.name, conf.url, adding=secret is not None)
        self.key = crypto.Key(secret if secret is not None else crypto.read_key_file(conf.key_file))
        self.backend: Backend = open_backend(conf.url)
        self.backend.name = conf.name  # (the commands its messages give name the remote)
        self._checked = False  # (check: one config read per command)

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Remote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the config object: which key this remote is sealed with ----------------------------
    #
    # The config only saves a read: which key seals the data is something the data itself
    # tells (a sealed document opens under that key alone). So a config that is missing or
    # damaged while the remote holds data is checked against the data and written again
    # (restic keeps its config apart from its keys the same way: it is no part of the data);
    # a remote holding data is never taken for a new one (borg refuses to init over a
    # non-empty folder): a config with a new key over it orphaned every snapshot there (RED34).

    def _config_blob(self) -> bytes:
        doc = {
            "format": FORMAT,
            "chunk": crypto.CHUNK,
            "key": self.key.fingerprint,
            "check": self.key.seal("config", CHECK).hex(),
        }
        return json.dumps(doc).encode()

    def init(self) -> bool:
        """Make the remote ours (True), or check that it already is, under this key (False).
        Only a remote holding no data is made ours: one whose config is gone is checked
        against its data like any other."""
        try:
            self.backend.get("config")
        except NotFound:
            if not self._holds_data() and self.backend.put_if_absent("config", self._config_blob()):
                return True
        self.check()
        return False

    def check(self) -> None:
        """A UserError unless this remote's data is sealed with our key. A config that is
        missing or damaged is written again when the data opens with our key (a note says so
        on stderr)."""
        if self._checked:
            return
        problem = self._config_problem()
        if problem is not None:
            self._mend(*problem)
        self._checked = True

    def _config_problem(self) -> tuple[str, str] | None:
        """None when the config says this is our key; else (what is wrong with it, the key
        fingerprint it names or '')."""
        try:
            doc = json.loads(self.backend.get("config"))
            sealed = bytes.fromhex(doc["check"])
        except NotFound:
            return "missing", ""
        except (ValueError, KeyError, TypeError):
            return "damaged", ""
        if doc.get("format") != FORMAT:
            raise UserError(
                f"remote {self.name} has format {doc.get('format')}; this version of "
                f"git-snapshot reads format {FORMAT}: upgrade it"
            )
        try:
            if self.key.open("config", sealed) == CHECK:
                return None
        except crypto.Damaged:
            pass
        named = str(doc.get("key", ""))
        return ("damaged" if named == self.key.fingerprint else "of another key"), named

    def _mend(self, problem: str, named: str) -> None:
        """Check our key against the remote's data, then write its config again; a UserError
        (WrongKey when the data does not open with our key) otherwise."""
        objects = self.listing()
        if not any(objects.values()):
            if problem == "missing":  # (a disk not mounted, a wrong prefix: nothing written)
                raise UserError(
                    f"remote {self.name} ({self.conf.url}) holds no git-snapshot data (no "
                    "config object, no packs, no snapshots): check that this is its place (a "
                    "disk not mounted? a wrong bucket or prefix?); to start it afresh there: "
                    f"git snapshot remote remove {self.name}, then git snapshot remote add "
                    f"{self.name} URL"
                )
            if problem != "damaged":  # another key's remote, empty yet: not ours to take
                raise self._wrong_key(named)
        elif not self._opens_here(objects):
            raise self._wrong_key(named)
        what = {"missing": "is missing", "damaged": "is damaged"}.get(
            problem, f"names another key ({named})"
        )
        try:
            if problem == "missing":
                self.backend.put_if_absent("config", self._config_blob())
            else:
                self.backend.put("config", self._config_blob())
        except (OSError, UserError) as exc:
            _note(
                f"remote {self.name}: its config object {what}; its data opens with this key "
                f"(key {self.key.fingerprint}), so it is read without it; the config could not "
                f"be written again ({exc}): git snapshot push {self.name} writes it once the "
                "remote takes writes"
            )
            return
        _note(
            f"remote {self.name}: its config object {what}; its data opens with this key "
            f"(key {self.key.fingerprint}), so the config was written again"
        )

    def _holds_data(self) -> bool:
        return any(self.listing().values())

    def _opens_here(self, objects: dict[str, dict[str, int]], tries: int = 4) -> bool:
        """Whether any of the first few documents (else packs) on the remote opens under our
        key: an authenticated open under another key fails but for a 2**-128 chance."""
        for kind in ("snapshots", "index"):
            for ident in sorted(objects[kind])[:tries]:
                with contextlib.suppress(NotFound, crypto.Damaged):
                    self.get_doc(f"{kind}/{ident}")
                    return True
        for ident, size in sorted(objects["packs"].items())[:tries]:
            name = f"packs/{ident}"
            with contextlib.suppress(NotFound, crypto.Damaged, ValueError):
                self.key.open_range(
                    name, functools.partial(self.backend.get_range, name), size, 0, 1
                )
                return True
        return False

    def _wrong_key(self, named: str) -> WrongKey:
        their = (
            f"the key its data was encrypted with (key {named})"
            if named
            else "the key its data was encrypted with (none of its documents opens with it)"
        )
        return WrongKey(
            f"wrong key for remote {self.name}: {self.conf.key_file} (key "
            f"{self.key.fingerprint}) is not {their}; put the right key file there (a copy "
            "from the machine that made the remote)",
            self.key.fingerprint,
            named,
        )

    # -- sealed documents --------------------------------------------------------------------

    def put_doc(self, name: str, doc: Any) -> bool:
        """Write the sealed document *name* unless a copy that opens is there; True when this
        call wrote it (new, or replacing one that does not open: damaged on the remote)."""
        import zstandard

        raw = zstandard.ZstdCompressor(level=3).compress(json.dumps(doc).encode())
        sealed = self.key.seal(name, raw)
        if self.backend.put_if_absent(name, sealed):
            return True
        try:  # there already: as sealed by a push (this one resumed, or another machine's)?
            self.get_doc(name)
        except crypto.Damaged:  # no: a copy that does not open, replaced by this good one
            self.backend.put(name, sealed)
            return True
        except NotFound:
            return self.backend.put_if_absent(name, sealed)
        return False

    def get_doc(self, name: str) -> Any:
        """A sealed JSON document; crypto.Damaged if it does not open."""
        import zstandard

        raw = self.key.open(name, self.backend.get(name))
        try:
            return json.loads(zstandard.ZstdDecompressor().decompress(raw))
        except (zstandard.ZstdError, ValueError) as exc:
            raise crypto.Damaged(f"{name}: unreadable content ({exc})") from None

    def listing(self) -> dict[str, dict[str, int]]:
        """One listing of each kind of object: kind -> {id: size}. Only names that are remote
        object ids (32 lowercase hex): anything else there (a sync tool's conflict copy, an S3
        console's folder object, a file someone put there) is not the remote's; read as a
        damaged document, it blocked every push and prune, and prune would delete it (RED31)."""
        out: dict[str, dict[str, int]] = {}
        for kind in ("packs", "index", "snapshots"):
            names = self.backend.list(kind + "/")
            out[kind] = {
                ident: size for n, size in names.items() if is_ident(ident := n.split("/", 1)[1])
            }
        return out

    def lock_names(self) -> list[str]:
        """The lock objects on the remote (names of the shape locks/<32 hex> only)."""
        return [n for n in self.backend.list("locks/") if is_ident(n.split("/", 1)[1])]

    # -- locks (as restic's): pushes share, prune is exclusive -------------------------------
    #
    # A lock is dead when its process is: seen gone here (this boot, this pid namespace), or
    # its lock seen unchanged by this machine for STALE_S by this machine's own clock (a live
    # process rewrites it every REFRESH_S). The time a lock document carries is its writer's
    # clock and is never compared with ours: a push on a machine 40 min behind (or a prune
    # on one 40 min ahead) had its live lock taken for a dead one, and the prune deleted the
    # pack it had just uploaded (RED31). When this machine first saw each lock, as it was,
    # is kept in the cache dir (locks_seen_path).

    def scan_locks(self) -> dict[str, tuple[dict[str, Any], float, bool]]:
        """Each lock on the remote that opens: name -> (its document, when this machine first
        saw it as it is now, whether it is dead)."""
        seen = self._load_seen()
        now = time.time()
        out: dict[str, tuple[dict[str, Any], float, bool]] = {}
        kept: dict[str, list[Any]] = {}
        for name in self.lock_names():
            try:
                raw = self.backend.get(name)
                doc = self._open_lock(name, raw)
            except (NotFound, crypto.Damaged):
                continue  # gone meanwhile, or not ours: ignored
            if not isinstance(doc, dict):
                continue
            mark = hashlib.sha256(raw).hexdigest()[:32]  # (a rewrite seals it afresh)
            first = seen.get(name)
            if not first or first[0] != mark or float(first[1]) > now:
                first = [mark, now]  # new, or rewritten since: alive then
            kept[name] = first
            since = float(first[1])
            out[name] = (doc, since, gone_here(doc) or now - since >= STALE_S)
        self._save_seen(kept)
        return out

    def _open_lock(self, name: str, sealed: bytes) -> Any:
        import zstandard

        raw = self.key.open(name, sealed)
        try:
            return json.loads(zstandard.ZstdDecompressor().decompress(raw))
        except (zstandard.ZstdError, ValueError) as exc:
            raise crypto.Damaged(f"{name}: unreadable content ({exc})") from None

    def locks_seen_path(self) -> str:
        from git_snapshot.store.remote.config import cache_dir

        url = self.conf.url.encode("utf-8", "surrogateescape")  # (a path need not be UTF-8)
        tag = hashlib.sha256(url).hexdigest()[:12]
        return os.path.join(cache_dir(), "remotes", f"locks-seen-{tag}.json")

    def _load_seen(self) -> dict[str, list[Any]]:
        try:
            with open(self.locks_seen_path(), encoding="utf-8") as f:
                got = json.load(f)
            return {str(k): list(v) for k, v in got.items() if isinstance(v, list) and len(v) == 2}
        except (OSError, ValueError, TypeError, AttributeError):
            return {}

    def _save_seen(self, seen: dict[str, list[Any]]) -> None:
        from git_snapshot.store.safewrite import atomic_write

        path = self.locks_seen_path()
        with contextlib.suppress(OSError):  # (not kept: a dead lock waits longer, no more)
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            atomic_write(path, json.dumps(seen, sort_keys=True).encode(), durable=False)

    def _locks(self) -> dict[str, tuple[dict[str, Any], float]]:
        """The live locks: name -> (document, when this machine first saw it as it is)."""
        return {n: (d, since) for n, (d, since, dead) in self.scan_locks().items() if not dead}

    @contextlib.contextmanager
    def lock(self, exclusive: bool, wait_s: float = 30.0) -> Iterator[Lock]:
        deadline = time.monotonic() + wait_s
        delay = 0.2
        while True:
            lk = Lock(self, exclusive)
            others = {n: d for n, d in self._locks().items() if n != lk.name}
            blocking = [d for d in others.values() if exclusive or d[0].get("exclusive")]
            if not blocking:
                break
            lk.release()
            if time.monotonic() > deadline:
                d, first = blocking[0]
                what = "pruning" if d.get("exclusive") else "pushing"
                since = time.strftime("%H:%M:%S", time.localtime(first))
                until = time.strftime("%H:%M", time.localtime(first + STALE_S))
                raise UserError(
                    f"remote {self.name} is busy: {d.get('host')} (pid {d.get('pid')}) is "
                    f"{what} (its lock seen here since {since}); try again later (a lock left "
                    f"by a dead process on another machine is taken for dead once this machine "
                    f"has seen it unchanged for {STALE_S // 60} min: from {until} if it is not "
                    "refreshed)"
                )
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        try:
            yield lk
        finally:
            lk.release()


def _note(message: str) -> None:
    """A line on stderr for the user (what a command found and did about the remote), as
    output.err prints one (that module is the commands', which run git: not the store's)."""
    import sys

    from git_snapshot.store import validate

    print(f"git-snapshot: {message.translate(validate._CONTROL)}", file=sys.stderr)


def gone_here(doc: dict[str, Any]) -> bool:
    """Whether the lock document *doc* was taken here (this pid namespace, this boot) by a
    pid that no longer runs (a killed push or prune blocks nobody for half an hour). A pid
    reused since counts as alive: then only the unchanged-for-STALE_S rule tells."""
    here = _here()
    if not here or doc.get("here") != here:
        return False  # another machine, container or boot: only the unchanged lock can tell
    from git_snapshot.store.pids import alive

    return not alive(doc.get("pid"))


def _here() -> str:
    """Where a pid means one process: this boot of this machine, this pid namespace ('' when
    /proc cannot say)."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            boot = f.read().strip()
        return f"{boot}:{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:
        return ""


class Lock:
    def __init__(self, remote: Remote, exclusive: bool) -> None:
        self.remote = remote
        self.exclusive = exclusive
        self.name = f"locks/{secrets.token_hex(16)}"
        self._written = 0.0
        self._write(True)

    def _write(self, first: bool) -> None:
        import zstandard

        doc = {
            "exclusive": self.exclusive,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "here": _here(),
            "time": time.time(),
        }
        raw = zstandard.ZstdCompressor().compress(json.dumps(doc).encode())
        sealed = self.remote.key.seal(self.name, raw)
        if first:
            self.remote.backend.put_if_absent(self.name, sealed)
        else:
            self.remote.backend.put(self.name, sealed)
        self._written = time.monotonic()

    def refresh(self) -> None:
        """Keep the lock alive during a long run (cheap: writes only every REFRESH_S)."""
        if time.monotonic() - self._written > REFRESH_S:
            self._write(False)

    def release(self) -> None:
        with contextlib.suppress(Exception):
            self.remote.backend.delete(self.name)
