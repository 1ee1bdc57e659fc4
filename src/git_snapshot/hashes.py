"""hashlib imported on first use, SHA-256 of a name without OpenSSL, and git's blob ids.

Importing hashlib loads OpenSSL and lists every digest it provides: about 11 million
instructions, a sixth of what an unchanged hook adds to Python's own start. Modules that a
hook imports but that hash only when they write or check objects (store.core, store.objects,
store.packs) bind the name ``hashlib`` to this module at run time::

    if TYPE_CHECKING:
        import hashlib
    else:
        from git_snapshot import hashes as hashlib

The first ``hashlib.sha256`` imports hashlib; later ones are the module attribute lookup
they always were. Type checkers see hashlib itself.

git's id of a blob (the SHA-1 of ``blob <size>\0`` and the bytes: an object id, not
security) is here once, for the hooks, losses, rebuild (in store/, which imports no git
module) and patch: of bytes in memory (blob_id), streamed (blob_id_of_chunks) and of an open
file checked against its size (blob_id_of_file).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterable
    from typing import Any
    from typing import BinaryIO

_small: Callable[[bytes], Any] | None = None


def __getattr__(name: str) -> object:
    if name.startswith("__"):  # the import system probing (__path__...): not hashlib's
        raise AttributeError(name)
    import hashlib

    value = getattr(hashlib, name)
    globals()[name] = value  # found here from now on, without this function
    return value


def _name_sha256() -> None:
    global _small
    if _small is None:
        import sys

        for module in ("_sha2", "_sha256") if sys.version_info >= (3, 12) else ("_sha256",):
            try:
                _small = __import__(module).sha256
                break
            except ImportError:
                continue
        else:
            import hashlib

            _small = hashlib.sha256


def name_digest(data: bytes) -> str:
    """SHA-256 of *data* (a path, to name a file after it), in hex: the digest hashlib would
    give, by Python's own implementation (hashlib's fallback) when it has one, so that a hook
    naming the watcher's journal does not load OpenSSL."""
    _name_sha256()
    assert _small is not None
    return str(_small(data).hexdigest())


def blob_id(data: bytes) -> str:
    """git's id of *data* as a blob (a file's bytes, or a symbolic link's target)."""
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def blob_id_of_chunks(size: int, chunks: Iterable[bytes]) -> str:
    """git's id of a blob of *size* bytes given as *chunks* (streamed: never all in memory).
    The header says *size* whatever the chunks hold: the caller checks that they agree
    where it matters (blob_id_of_file)."""
    import hashlib

    h = hashlib.sha1(b"blob %d\0" % size, usedforsecurity=False)
    for chunk in chunks:
        h.update(chunk)
    return h.hexdigest()


def file_chunks(f: BinaryIO) -> Iterable[bytes]:
    """*f* read to its end, 1 MiB at a time."""
    return iter(lambda: f.read(1 << 20), b"")


def blob_id_of_file(f: BinaryIO, size: int) -> str | None:
    """git's id of what *f* holds from where it stands to its end, *size* bytes by its stat;
    None when it holds another number of bytes (written while read). A read's OSError is
    the caller's."""
    n = 0

    def counted() -> Iterable[bytes]:
        nonlocal n
        for chunk in file_chunks(f):
            n += len(chunk)
            yield chunk

    oid = blob_id_of_chunks(size, counted())
    return oid if n == size else None
