"""hashlib imported on first use, and SHA-256 of a name without OpenSSL.

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
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

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
