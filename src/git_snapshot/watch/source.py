"""Where file-system events come from, behind one small interface.

The daemon needs five things of an event source: watch one folder (its entries, not below),
stop watching it, a file descriptor to wait on, the events that are ready, and "events were
lost". That is what inotify gives on Linux, and also what FSEvents (macOS) and
ReadDirectoryChangesW (Windows) give, so another :class:`Source` can slot in there later.

Linux: inotify through inotify_simple, a thin ctypes wrapper over the three system calls. It
leaves the watch set to us, which is the point: one watch per folder we choose, within a
budget, a single watch at the root of a big ignored tree. watchdog and watchfiles decide that
for us (a recursive watch of everything, or a polling fallback of their own).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Protocol

CREATE, DELETE, MODIFY, ATTRIB, MOVED_FROM, MOVED_TO = (
    "create",
    "delete",
    "modify",
    "attrib",
    "moved_from",
    "moved_to",
)
# a file opened for writing was closed: its write session ended (watch/watchset.py counts
# sessions, so that a later one is known to overwrite an edit no snapshot holds)
CLOSE_WRITE = "close_write"
SELF_GONE = "self_gone"  # the watched folder itself was deleted or moved away
UNWATCHED = "unwatched"  # the watch is gone (the kernel's IN_IGNORED)
OVERFLOW = "overflow"  # the kernel's queue overflowed: events were lost


@dataclass(frozen=True)
class Event:
    wd: int  # the watch it came from (-1 for OVERFLOW)
    kind: str
    name: str  # the entry in the watched folder ("" for the folder itself)
    is_dir: bool


class Source(Protocol):
    def fileno(self) -> int: ...

    def add(self, path: str) -> int:
        """Watch the entries of folder *path*; its watch id. Raises OSError (ENOSPC when the
        kernel's watch limit is reached, ENOENT when it is gone). Watching a folder twice
        gives the same id."""
        ...

    def remove(self, wd: int) -> None: ...

    def read(self) -> list[Event]:
        """The events ready now, without waiting."""
        ...

    def close(self) -> None: ...


class Inotify:
    """The Linux source."""

    def __init__(self) -> None:
        from inotify_simple import INotify  # a kept library; imported by the daemon only
        from inotify_simple import flags

        self._f = flags
        self._ino = INotify(nonblocking=True)
        self._mask = (
            flags.CREATE
            | flags.DELETE
            | flags.MODIFY
            | flags.CLOSE_WRITE
            | flags.ATTRIB
            | flags.MOVED_FROM
            | flags.MOVED_TO
            | flags.DELETE_SELF
            | flags.MOVE_SELF
            | flags.ONLYDIR
            | flags.DONT_FOLLOW
            | flags.EXCL_UNLINK
        )

    def fileno(self) -> int:
        return int(self._ino.fileno())

    def add(self, path: str) -> int:
        return int(self._ino.add_watch(path, self._mask))

    def remove(self, wd: int) -> None:
        with contextlib.suppress(OSError):  # gone already (its folder was deleted)
            self._ino.rm_watch(wd)

    def read(self) -> list[Event]:
        f = self._f
        out = []
        try:
            raw = self._ino.read(timeout=0)
        except BlockingIOError:
            return []
        for e in raw:
            mask = e.mask
            is_dir = bool(mask & f.ISDIR)
            if mask & f.Q_OVERFLOW:
                out.append(Event(-1, OVERFLOW, "", False))
                continue
            if mask & f.IGNORED:
                out.append(Event(e.wd, UNWATCHED, "", True))
                continue
            if mask & (f.DELETE_SELF | f.MOVE_SELF | f.UNMOUNT):
                out.append(Event(e.wd, SELF_GONE, "", True))
                continue
            for bit, kind in (
                (f.CREATE, CREATE),
                (f.DELETE, DELETE),
                (f.MOVED_FROM, MOVED_FROM),
                (f.MOVED_TO, MOVED_TO),
                (f.MODIFY, MODIFY),
                (f.CLOSE_WRITE, CLOSE_WRITE),
                (f.ATTRIB, ATTRIB),
            ):
                if mask & bit:
                    out.append(Event(e.wd, kind, e.name, is_dir))
                    break
        return out

    def close(self) -> None:
        self._ino.close()
