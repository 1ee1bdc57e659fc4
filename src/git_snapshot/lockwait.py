"""What a hook says while it waits for the store's lock (RED34 D4).

A hook waits as long as another git-snapshot holds the store's lock exclusively (a repair, a
gc); a wait longer than hooks.LOCK_QUIET_S is said once, naming the holder from /proc/locks
and, when it is suspended, what ends the wait. Imported by hooks._say_waiting's callback
only when a hook has waited that long (every git command imports hooks.py).
"""

from __future__ import annotations

import os
import sys

from git_snapshot.ctx import suppress
from git_snapshot.hooks import TTY
from git_snapshot.hooks import Call


def on_screen(call: Call, line: str) -> None:
    """*line* on the hook's stderr when that is a terminal; under pre-commit, which hides it,
    on the controlling terminal; else nowhere."""
    if not call.precommit:
        if sys.stderr.isatty():
            print(line, file=sys.stderr, flush=True)
        return
    with suppress(OSError), open(TTY, "w", encoding="utf-8", errors="replace") as tty:
        tty.write(f"\n{line}\n")  # (pre-commit's "name....." is on the line above)


def waiting_line(holder: tuple[int, str, bool] | None) -> str:
    line = "git-snapshot: waiting for another git-snapshot to finish with the store"
    if holder is None:
        return f"{line} (a snapshot, restore, prune or repair)..."
    pid, who, stopped = holder
    if stopped:  # it would wait for good: say what ends the wait
        return (
            f"{line} ({who}, pid {pid}), which is suspended: resume it (fg in its shell, "
            f"or kill -CONT {pid}) and git goes on"
        )
    return f"{line} ({who}, pid {pid})..."


def lock_holder() -> tuple[int, str, bool] | None:
    """The process holding the store's lock exclusively, from /proc/locks: its pid, its
    command ("git-snapshot repair") and whether it is stopped (Ctrl-Z); None if unknown."""
    from git_snapshot.store import location

    st = os.stat(os.path.join(location.store_dir(), "lock"))
    where = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    with open("/proc/locks", encoding="ascii", errors="replace") as f:
        for row in f:
            # "1: FLOCK  ADVISORY  WRITE 10198 fe:00:123 0 EOF"; a waiter's has "->" after "1:"
            fields = row.split()
            if fields[1:4] == ["FLOCK", "ADVISORY", "WRITE"] and fields[5:6] == [where]:
                pid = int(fields[4])  # 0: a process outside our pid namespace
                return (pid, _command_of(pid), _is_stopped(pid)) if pid > 0 else None
    return None


def _command_of(pid: int) -> str:
    """``git-snapshot repair`` from the process's argv (python's, or a script's)."""
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        argv = os.fsdecode(f.read()).split("\0")
    for i, word in enumerate(argv):
        if os.path.basename(word) in ("git-snapshot", "git_snapshot"):
            return " ".join(["git-snapshot", *argv[i + 1 : i + 2]]).strip()
    return os.path.basename(argv[0]) or f"process {pid}"


def _is_stopped(pid: int) -> bool:
    with open(f"/proc/{pid}/stat", "rb") as f:
        state = f.read().rpartition(b")")[2].split()[:1]
    return state in ([b"T"], [b"t"])
