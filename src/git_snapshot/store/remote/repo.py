"""A remote as git-snapshot sees it: a backend, a key, and this layout under the URL:

```
config                 plaintext JSON: format, chunk size, key fingerprint, a sealed check value
packs/<id>             a local pack file, sealed (id: HMAC of the local pack name)
index/<id>             what packs/<id> holds (its objects' keys, types and places), sealed;
                       written after the pack: a pack without its index is an unfinished upload
snapshots/<id>         one snapshot: its record and the packs it needs (id: HMAC of the
                       record's key), sealed; written after every pack it names
locks/<random>         a push (shared) or prune (exclusive) at work, sealed, with its time
```

Every object but ``config`` is sealed under the remote's key (see crypto); the object store
sees only sizes, counts and random-looking names. Documents are JSON compressed with zstd.
"""

from __future__ import annotations

import contextlib
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

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Remote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the config object: which key this remote is sealed with ----------------------------

    def init(self) -> bool:
        """Make the remote ours (True), or check that it already is, under this key (False)."""
        doc = {
            "format": FORMAT,
            "chunk": crypto.CHUNK,
            "key": self.key.fingerprint,
            "check": self.key.seal("config", CHECK).hex(),
        }
        created = self.backend.put_if_absent("config", json.dumps(doc).encode())
        if not created:
            self.check()
        return created

    def check(self) -> None:
        """A UserError unless this remote was made with our key."""
        try:
            doc = json.loads(self.backend.get("config"))
            sealed = bytes.fromhex(doc["check"])
        except NotFound:
            raise UserError(
                f"remote {self.name} ({self.conf.url}) holds no git-snapshot data (no config "
                f"object); remove it and add it again: git snapshot remote add {self.name} URL"
            ) from None
        except (ValueError, KeyError, TypeError):
            raise UserError(
                f"remote {self.name}: its config object is damaged; it cannot be used"
            ) from None
        if doc.get("format") != FORMAT:
            raise UserError(
                f"remote {self.name} has format {doc.get('format')}; this version of "
                f"git-snapshot reads format {FORMAT}: upgrade it"
            )
        try:
            ok = self.key.open("config", sealed) == CHECK
        except crypto.Damaged:
            ok = False
        if not ok:
            have, want = self.key.fingerprint, str(doc.get("key", "?"))
            raise WrongKey(
                f"wrong key for remote {self.name}: {self.conf.key_file} (key {have}) is not "
                f"the key its data was encrypted with (key {want}); put the right key file "
                "there (a copy from the machine that made the remote)",
                have,
                want,
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

    # -- locks (as restic's): pushes share, prune is exclusive, stale after STALE_S ---------

    def _locks(self) -> dict[str, dict[str, Any]]:
        out = {}
        for name in self.lock_names():
            try:
                doc = self.get_doc(name)
            except (NotFound, crypto.Damaged):
                continue  # gone meanwhile, or not ours: ignored
            if isinstance(doc, dict) and not dead(doc):
                out[name] = doc
        return out

    @contextlib.contextmanager
    def lock(self, exclusive: bool, wait_s: float = 30.0) -> Iterator[Lock]:
        deadline = time.monotonic() + wait_s
        delay = 0.2
        while True:
            lk = Lock(self, exclusive)
            others = {n: d for n, d in self._locks().items() if n != lk.name}
            blocking = [d for d in others.values() if exclusive or d.get("exclusive")]
            if not blocking:
                break
            lk.release()
            if time.monotonic() > deadline:
                d = blocking[0]
                what = "pruning" if d.get("exclusive") else "pushing"
                since = time.strftime("%H:%M:%S", time.localtime(float(d.get("time", 0))))
                raise UserError(
                    f"remote {self.name} is busy: {d.get('host')} (pid {d.get('pid')}) is "
                    f"{what} since {since}; try again later (a lock left by a dead process "
                    f"expires {STALE_S // 60} min after its last refresh)"
                )
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        try:
            yield lk
        finally:
            lk.release()


def dead(doc: dict[str, Any]) -> bool:
    """Whether the process of a lock document is gone: its lock not refreshed for STALE_S, or
    taken here (this pid namespace, this boot) by a pid that no longer runs (a killed push or
    prune blocks nobody for half an hour). A pid reused since counts as alive: the timeout."""
    if time.time() - float(doc.get("time", 0)) >= STALE_S:
        return True
    here = _here()
    if not here or doc.get("here") != here:
        return False  # another machine, container or boot: only the timeout can tell
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
