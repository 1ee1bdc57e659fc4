"""The daemon's settings: git config ``snapshot.watch*`` (global or system: one daemon serves
every repository), read once at start. Seconds may have a fraction (``0.5``)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from dataclasses import fields

from git_snapshot.errors import UserError

MAX_USER_WATCHES = "/proc/sys/fs/inotify/max_user_watches"
# Names of folders that are big, ignored and rewritten by tools: one watch at their root and
# a slow scan of their inside, never a watch per directory.
BIG_NAMES = frozenset(
    {
        "node_modules",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "build",
        "dist",
        "target",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".gradle",
        ".next",
        ".cache",
        "bower_components",
        "vendor",
    }
)


@dataclass(frozen=True)
class WatchConfig:
    quiet: float = 3.0  # snapshot.watchQuiet: seconds without a change before a snapshot
    max_delay: float = 60.0  # snapshot.watchMaxDelay: at most this far behind under churn
    budget: int = 0  # snapshot.watchBudget: inotify watches; 0 = a quarter of the limit
    poll: float = 10.0  # snapshot.watchPoll: how often folders without a watch are scanned
    slow_scan: float = 30.0  # snapshot.watchSlowScan: folder stat scan of big ignored trees
    deep_scan: float = 1800.0  # snapshot.watchDeepScan: file stat scan of big ignored trees
    big_dirs: int = 1000  # snapshot.watchBigDirs: an ignored folder with more is "big"
    # snapshot.watchPrepare: seconds without a change before the worker prepares the next
    # snapshot (watch/take.prepare: a hook then commits it); 0: never. 0.1 since a hook that
    # comes while the worker prepares a first part has it prepare the rest next, chained
    # (daemon.may_prepare_for_hook), instead of rebuilding it itself: a preparation started in
    # a gap of the writes no longer costs the hook (L, 2,000 files, hook 0.3 s after them:
    # 2,668 -> 2,353 and 1,750 -> 1,121 ms, medians of 4, two A/B blocks at load 5-9)
    prepare: float = 0.1

    def effective_budget(self) -> int:
        return self.budget if self.budget > 0 else max(16, max_user_watches() // 4)


_KEYS = {
    "snapshot.watchquiet": "quiet",
    "snapshot.watchmaxdelay": "max_delay",
    "snapshot.watchbudget": "budget",
    "snapshot.watchpoll": "poll",
    "snapshot.watchslowscan": "slow_scan",
    "snapshot.watchdeepscan": "deep_scan",
    "snapshot.watchbigdirs": "big_dirs",
    "snapshot.watchprepare": "prepare",
}


def max_user_watches() -> int:
    try:
        with open(MAX_USER_WATCHES, encoding="ascii") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return 8192  # the kernel's old default


def _git_config(cwd: str) -> dict[str, str]:
    """snapshot.watch* as git sees them from *cwd* (lower-cased keys; the last value wins)."""
    env = {k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_WORK_TREE")}
    try:
        res = subprocess.run(
            ["git", "config", "-z", "--get-regexp", r"^snapshot\.watch"],
            cwd=cwd,
            capture_output=True,
            env=env,
            check=False,
        )
    except OSError:
        return {}
    out: dict[str, str] = {}
    for rec in res.stdout.split(b"\0"):
        if rec:
            key, _, value = rec.partition(b"\n")
            out[key.decode("utf-8", "replace").lower()] = value.decode("utf-8", "replace")
    return out


def load(cwd: str = "/") -> WatchConfig:
    raw = _git_config(cwd)
    values: dict[str, float | int] = {}
    kinds = {f.name: f.type for f in fields(WatchConfig)}
    for key, name in _KEYS.items():
        if key not in raw:
            continue
        text = raw[key].strip()
        try:
            number = float(text)
            if number < 0:
                raise ValueError(text)
        except ValueError:
            raise UserError(f"bad {key} {text!r} in git config: use a number, 0 or more") from None
        values[name] = int(number) if kinds[name] in ("int", int) else number
    return WatchConfig(**values)  # type: ignore[arg-type]


def enabled(worktree: str) -> bool:
    """Whether ``snapshot.watch`` (as git reads a boolean) leaves this worktree watched."""
    try:
        res = subprocess.run(
            ["git", "-C", worktree, "config", "--type=bool", "--get", "snapshot.watch"],
            capture_output=True,
            check=False,
        )
    except OSError:
        return True
    return res.stdout.strip() != b"false"
