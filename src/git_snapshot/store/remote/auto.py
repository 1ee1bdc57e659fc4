"""Automatic pushes after hook snapshots (``git config snapshot.autoPush NAME``).

Never in the hook's time: the hook calls :func:`kick`, which reads one small state file and,
when a push is due, starts ``git-snapshot push --auto NAME`` as a detached process (its own
session, no terminal, output to nowhere) and returns. Rate-limited: at most one start per
``INTERVAL_S``; a failed push backs off (1, 2, 4 ... up to 60 min) before the next try. A
hook that fires while a push runs marks the state ``pending`` and the running push goes
round once more. State: ``<store>/remote-state/NAME.json``, shown by ``remote list``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from git_snapshot.store.pids import alive
from git_snapshot.store.safewrite import atomic_write

INTERVAL_S = 60.0
MAX_BACKOFF_S = 3600.0


def state_path(store_path: str, name: str) -> str:
    return os.path.join(store_path, "remote-state", f"{name}.json")


def read_state(store_path: str, name: str) -> dict[str, Any]:
    try:
        with open(state_path(store_path, name), encoding="utf-8") as f:
            doc = json.load(f)
        return doc if isinstance(doc, dict) else {}
    except (OSError, ValueError):
        return {}


def write_state(store_path: str, name: str, state: dict[str, Any]) -> None:
    path = state_path(store_path, name)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    atomic_write(path, json.dumps(state).encode(), durable=False)  # the store's files: 0600


def kick(store_path: str, name: str) -> None:
    """Start a background push of *store_path* to remote *name* if one is due (the hook's
    call: a file read and at most one fork; never waits, never raises)."""
    try:
        state = read_state(store_path, name)
        now = time.time()
        if alive(state.get("pid")):
            if not state.get("pending"):
                state["pending"] = True
                write_state(store_path, name, state)
            return
        if now < float(state.get("next_try", 0)):
            return
        import subprocess

        env = dict(os.environ, GIT_SNAPSHOT_STORE=store_path)
        proc = subprocess.Popen(
            [sys.executable, "-m", "git_snapshot", "push", "--auto", name],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
            env=env,
            cwd="/",
        )
        state.update(pid=proc.pid, started=now, pending=False, next_try=now + INTERVAL_S)
        write_state(store_path, name, state)
    except Exception:  # a hook never fails because of a background push
        return


def finished(store_path: str, name: str, error: str | None) -> bool:
    """Note a background push's end; True when it should go round once more."""
    state = read_state(store_path, name)
    now = time.time()
    again = bool(state.get("pending")) and error is None
    if error is None:
        state.update(last_ok=now, last_error=None, failures=0, next_try=now + INTERVAL_S)
    else:
        failures = int(state.get("failures", 0)) + 1
        backoff = min(INTERVAL_S * 2 ** (failures - 1), MAX_BACKOFF_S)
        state.update(last_error=error, last_failed=now, failures=failures, next_try=now + backoff)
    state.update(pending=False, pid=None if not again else os.getpid())
    write_state(store_path, name, state)
    return again
