"""Printing for people: sizes, ages, aligned tables, progress on a terminal."""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from git_snapshot.store import Snapshot
from git_snapshot.store import validate
from git_snapshot.store.restorer import ADVICE


def display(path: bytes) -> str:
    """A path for people and JSON: undecodable bytes and control characters (a terminal's
    escape sequences) shown as escapes, never an exception."""
    return validate.show(path)


def print_damaged(damaged: list[tuple[bytes, str]], verb: str, shown: int = 20) -> None:
    """Each damaged path on a line of its own (the first *shown* of them), then the last
    line, on stderr: what was not *verb* and what to do about it."""
    for path, why in damaged[:shown]:
        print(f"DAMAGED {display(path) or '.'}: {why}")
    if len(damaged) > shown:
        print(f"... and {len(damaged) - shown} more damaged path(s)")
    err(
        f"{len(damaged)} damaged path(s) could not be {verb} (listed above), everything "
        f"intact was; {ADVICE}"
    )


def shell_quote(path: bytes) -> str:
    """*path* as a word for any POSIX shell that gives back exactly these bytes."""
    try:
        return shlex.quote(path.decode("utf-8"))
    except UnicodeDecodeError:
        body = "".join(
            chr(b) if 32 <= b < 127 and chr(b) not in "\\'%" else f"\\{b:03o}" for b in path
        )
        return f"\"$(printf '{body}')\""


def snapshot_warnings(s: Snapshot) -> list[str]:
    """Lines that must not go unseen: files that could not be saved as they were."""
    out = []
    unreadable = [p for p, why in s.meta.get("skipped_paths", []) if why.startswith("unreadable")]
    if unreadable:
        out.append(
            f"warning: {len(unreadable)} path(s) could not be read and are NOT in snapshot "
            f"{s.id}, e.g. {display(os.fsencode(unreadable[0]))}"
        )
    changed = s.meta.get("changed_while_read", [])
    if changed:
        out.append(
            f"warning: {len(changed)} file(s) kept changing while read; snapshot {s.id} "
            f"holds their last state, e.g. {display(os.fsencode(changed[0]))}"
        )
    return out


def size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def age(created: float, now: float | None = None) -> str:
    secs = max(0, int((time.time() if now is None else now) - created))
    for unit, length in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= length:
            return f"{secs // length}{unit} ago"
    return f"{secs}s ago"


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    """Columns aligned; indexes in *right* are right-aligned (numbers)."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]

    def line(cells: Sequence[str]) -> str:
        out = [
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ]
        return "  ".join(out).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def err(message: str) -> None:
    print(f"git-snapshot: {message}", file=sys.stderr)


class Progress:
    """One self-overwriting line on stderr, only when stderr is a terminal."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.on = sys.stderr.isatty()
        self._last = 0.0
        self._shown = False

    def __call__(self, *counts: int) -> None:
        if not self.on:
            return
        now = time.monotonic()
        if now - self._last < 0.1:
            return
        self._last = now
        text = f"{self.what}: {counts[0]} files"
        if len(counts) > 1:
            text += f", {size(counts[1])}"
        sys.stderr.write("\r\033[K" + text)
        sys.stderr.flush()
        self._shown = True

    def done(self) -> None:
        if self._shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
