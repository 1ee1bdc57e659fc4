"""Where remote copies live: a small object-store interface and the URL that picks one.

Two implementations: ``file:///path`` (a second disk, :mod:`.backend_file`) and
``s3://bucket/prefix`` (any S3-compatible store through obstore, :mod:`.backend_s3`, imported
only when an s3 remote is used). Everything written through a backend is already encrypted
(:mod:`git_snapshot.store.remote.crypto`); a backend moves opaque bytes under opaque names.

The operations are what the remote protocol needs and nothing more:

- ``put_if_absent``: create an object unless one of that name exists (packs, records: immutable
  and content-named, so an upload is idempotent and a resumed push skips what arrived);
- ``put``: create or replace (lock refreshes);
- ``put_cas``: create-if-absent (``etag=None``) or replace only if the object still has *etag*
  (compare-and-swap, for objects several machines update);
- ``put_parts``: ``put_if_absent`` or ``put`` of an object given as its parts, read one at a
  time (a pack: memory stays a few parts however large it is);
- ``get``, ``get_range``, ``head``, ``size``, ``list`` (one listing per prefix), ``delete``.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass

from git_snapshot.errors import UserError


class BackendError(UserError):
    """The remote cannot be reached or refused a request (one line for the user)."""


class NotFound(Exception):
    """No object of that name."""


class Conflict(Exception):
    """A conditional write lost: the object exists, or changed since it was read."""


@dataclass(frozen=True)
class Info:
    size: int
    etag: str


class Backend:
    """Names are relative ``a/b`` paths under the remote's root (no leading slash)."""

    url: str = ""
    name: str = "NAME"  # the remote's name, for the commands its messages give (Remote sets it)

    def put_if_absent(self, name: str, data: bytes) -> bool:
        """Write *data* unless *name* exists; True when this call created it."""
        try:
            self.put_cas(name, data, None)
        except Conflict:
            return False
        return True

    def put(self, name: str, data: bytes) -> None:
        raise NotImplementedError

    def put_parts(
        self, name: str, parts: Callable[[], Iterable[bytes]], size: int, if_absent: bool
    ) -> bool:
        """Write the *size* bytes *parts()* yields (called again for each attempt) as *name*:
        unless it exists (*if_absent*; True when this call created it) or replacing it. Here
        the parts are joined in memory; the backends override it to stream them."""
        data = b"".join(parts())
        if if_absent:
            return self.put_if_absent(name, data)
        self.put(name, data)
        return True

    def put_cas(self, name: str, data: bytes, etag: str | None) -> str:
        """Create (*etag* None) or replace the version whose etag is *etag*; returns the new
        etag; Conflict when the object exists (create) or has changed (replace)."""
        raise NotImplementedError

    def get(self, name: str) -> bytes:
        raise NotImplementedError

    def get_range(self, name: str, start: int, end: int) -> bytes:
        """Bytes [start, end) of an object."""
        raise NotImplementedError

    def head(self, name: str) -> Info | None:
        raise NotImplementedError

    def size(self, name: str) -> int:
        """The size of *name*; NotFound when there is none."""
        info = self.head(name)
        if info is None:
            raise NotFound(name)
        return info.size

    def list(self, prefix: str) -> dict[str, int]:
        """Every object under *prefix* (``"packs/"``): name -> size."""
        raise NotImplementedError

    def delete(self, name: str) -> None:
        """Remove *name*; no error when it is already gone."""
        raise NotImplementedError

    def sweep_parts(self, older_s: float) -> int:
        """Remove what uploads killed at least *older_s* seconds ago left behind (parts no
        listing shows); returns how many. None here (S3 shows no part of a PUT)."""
        return 0

    def close(self) -> None:
        return None


def open_backend(url: str) -> Backend:
    """The backend a remote URL names; a UserError for anything else."""
    if url.startswith("file://"):
        from git_snapshot.store.backend_file import FileBackend

        return FileBackend(url)
    if url.startswith("s3://"):
        from git_snapshot.store.backend_s3 import S3Backend

        return S3Backend(url)
    raise UserError(
        f"unsupported remote URL {url!r}: use s3://BUCKET[/PREFIX] (an S3-compatible object "
        "store) or file:///ABSOLUTE/PATH (a second disk)"
    )


def check_url(url: str) -> str:
    """*url* if it has a form open_backend accepts (nothing is contacted)."""
    if url.startswith("file://"):
        from git_snapshot.store.backend_file import parse_file_url

        parse_file_url(url)
        return url
    if url.startswith("s3://"):
        from git_snapshot.store.backend_s3 import parse_s3_url

        parse_s3_url(url)
        return url
    open_backend(url)  # raises the message
    return url
