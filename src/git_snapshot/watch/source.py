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

import array
import contextlib
import fcntl
import os
import struct
import sys
import termios
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
    # pairs a MOVED_FROM with its MOVED_TO (a rename inside what is watched: both come, the
    # same cookie); 0 for the other kinds
    cookie: int = 0


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
    """The Linux source. inotify_simple makes the descriptor and the watches; the events are
    read and decoded here, straight into :class:`Event` (its reader makes a namedtuple per
    event, and the flags it tests are enum members: twice the work per event, and a burst
    of 20,000 written files is 60,000 events)."""

    def __init__(self) -> None:
        from inotify_simple import INotify  # a kept library; imported by the daemon only
        from inotify_simple import flags

        self._ino = INotify(nonblocking=True)
        self._fd = int(self._ino.fileno())
        self._mask = int(
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
        # the kind of an event's mask: None for OVERFLOW (no watch), and the first bit of
        # each row that is set, in this order; masks repeat, so each is worked out once
        self._rows = (
            (int(flags.Q_OVERFLOW), OVERFLOW),
            (int(flags.IGNORED), UNWATCHED),
            (int(flags.DELETE_SELF | flags.MOVE_SELF | flags.UNMOUNT), SELF_GONE),
            (int(flags.CREATE), CREATE),
            (int(flags.DELETE), DELETE),
            (int(flags.MOVED_FROM), MOVED_FROM),
            (int(flags.MOVED_TO), MOVED_TO),
            (int(flags.MODIFY), MODIFY),
            (int(flags.CLOSE_WRITE), CLOSE_WRITE),
            (int(flags.ATTRIB), ATTRIB),
        )
        self._isdir = int(flags.ISDIR)
        self._kinds: dict[int, tuple[str, bool] | None] = {}

    def fileno(self) -> int:
        return self._fd

    def add(self, path: str) -> int:
        return int(self._ino.add_watch(path, self._mask))

    def remove(self, wd: int) -> None:
        with contextlib.suppress(OSError):  # gone already (its folder was deleted)
            self._ino.rm_watch(wd)

    def _kind(self, mask: int) -> tuple[str, bool] | None:
        """What an event of *mask* is: its kind and whether it names a folder; None for an
        event we do not report."""
        for bit, kind in self._rows:
            if mask & bit:
                if kind == OVERFLOW:
                    return kind, False
                return kind, kind in (UNWATCHED, SELF_GONE) or bool(mask & self._isdir)
        return None

    def read(self) -> list[Event]:
        try:
            data = os.read(self._fd, _ready(self._fd) or READ_SIZE)
        except BlockingIOError:
            return []
        return self.parse(data)

    def parse(self, data: bytes) -> list[Event]:
        """The events in *data*, as read from the inotify descriptor."""
        out = []
        kinds = self._kinds
        pos, end = 0, len(data)
        while pos < end:
            wd, mask, cookie, size = _HEADER.unpack_from(data, pos)
            pos += _HEADER.size
            try:
                got = kinds[mask]
            except KeyError:
                got = kinds[mask] = self._kind(mask)
            if got is not None:
                kind, is_dir = got
                if kind == OVERFLOW:
                    out.append(Event(-1, OVERFLOW, "", False))
                elif kind in (UNWATCHED, SELF_GONE):
                    out.append(Event(wd, kind, "", True))
                else:
                    name = data[pos : pos + size].split(b"\0", 1)[0] if size else b""
                    name_s = name.decode(_FS, "surrogateescape")
                    out.append(Event(wd, kind, name_s, is_dir, cookie))
            pos += size
        return out

    def close(self) -> None:
        self._ino.close()


_HEADER = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len (then the name)
_FS = sys.getfilesystemencoding()
READ_SIZE = 1 << 16  # when the kernel cannot say how much is ready


def _ready(fd: int) -> int:
    """How many bytes of events are ready on inotify descriptor *fd* (FIONREAD)."""
    buf = array.array("i", [0])
    try:
        fcntl.ioctl(fd, termios.FIONREAD, buf, True)
    except OSError:
        return 0
    return buf[0]
