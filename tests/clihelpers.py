"""Running a real command (git-snapshot, git, a hook) as a subprocess and reading what it
printed; shared by every test (this module holds no tests).

The one ``git`` and the one ``gs`` of the test suite live here: ``git(cwd, *args)`` runs real
git, ``gs(cwd, *args)`` runs ``git snapshot`` as a user does (git finds the console script of
this venv on PATH). Both check the exit status and return a :class:`Ran`, which is also the
text it printed on stdout (``git(repo, "rev-parse", "HEAD").strip()``).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_REPORT = re.compile(
    r"^git-snapshot: (?:earlier(?:, at [-\d: ]+)?: )?"  # held for the next command (pre-commit)
    r"(?P<what>.+?) destroyed (?P<kinds>.+?): (?P<names>.+) "
    r"\((?:saved in snapshot (?P<id>\d+)|an earlier version, saved \S+ ago, is in snapshot "
    r"(?P<old>\d+); later edits, if any, were not saved); "
    # (the store named when the repository has snapshots in another store too: RED44 F1; the
    # command is run in the test's store)
    r"restore with: (?:GIT_SNAPSHOT_STORE=(?:'[^']*'|\S+) )?(?P<cmd>git snapshot restore .+)\)$"
)


VENV_BIN = Path(sys.executable).parent


class Ran(str):
    """What a command printed: the str is its stdout; ``rc``, ``out`` and ``err`` as named."""

    rc: int
    out: str
    err: str

    def __new__(cls, rc: int, out: str, err: str) -> Ran:
        self = super().__new__(cls, out)
        self.rc, self.out, self.err = rc, out, err
        return self

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]

    @property
    def ours(self) -> list[str]:
        """What git-snapshot printed (each of its lines starts with 'git-snapshot:')."""
        return [ln for ln in self.err.splitlines() if ln.startswith("git-snapshot:")]

    @property
    def said(self) -> list[str]:
        """git-snapshot's lines on stdout or stderr (pre-commit prints hook output on stdout)."""
        return [ln for ln in (self.out + self.err).splitlines() if ln.startswith("git-snapshot:")]

    @property
    def reports(self) -> list[Report]:
        return [r for r in (Report.parse(ln) for ln in self.said) if r is not None]


@dataclass(frozen=True)
class Report:
    """One loss report line."""

    what: str  # "git merge"
    kinds: str  # "1 ignored file"
    names: str
    snap: int
    command: list[str]  # the restore command, as argv
    exact: bool = True  # False: the snapshot holds an earlier version

    @classmethod
    def parse(cls, line: str) -> Report | None:
        m = _REPORT.match(line)
        if m is None:
            return None
        snap = int(m["id"] or m["old"])
        return cls(m["what"], m["kinds"], m["names"], snap, shlex.split(m["cmd"]), bool(m["id"]))


def run(
    cwd: Path | str,
    *argv: str,
    rc: int | None = 0,
    env: Mapping[str, str] | None = None,
    input: bytes | None = None,
    timeout: float = 120,
) -> Ran:
    """Run *argv* in *cwd*; check the exit status (unless *rc* is None) and that nothing
    crashed (no traceback, no internal error)."""
    res = subprocess.run(
        list(argv),
        cwd=cwd,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        env=None if env is None else dict(env),
        check=False,
        timeout=timeout,
    )
    ran = Ran(
        res.returncode,
        res.stdout.decode("utf-8", "surrogateescape"),
        res.stderr.decode("utf-8", "surrogateescape"),
    )
    assert "Traceback" not in ran.err, ran.err
    assert "internal error" not in ran.err, ran.err
    if rc is not None:
        assert ran.rc == rc, f"{shlex.join(argv)} exited {ran.rc}:\n{ran.out}\n{ran.err}"
    return ran


def git(cwd: Path | str, *args: str, rc: int | None = 0, **env: str) -> Ran:
    """Real git in *cwd*, with extra environment variables from *env*; *rc* None: any status."""
    return run(cwd, "git", *args, rc=rc, env={**os.environ, **env} if env else None)


def gs(cwd: Path | str, *args: str, rc: int | None = 0, **env: str) -> Ran:
    """``git snapshot ARGS`` in *cwd*, as a user runs it: git finds the git-snapshot console
    script of this venv on PATH."""
    path = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    return run(cwd, "git", "snapshot", *args, rc=rc, env={**os.environ, **env, "PATH": path})


def gs_into_full(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """``git snapshot ARGS`` (through git) with its standard output on /dev/full, which fails
    every write with ENOSPC, as a full disk does."""
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    with open("/dev/full", "wb") as full:
        return subprocess.run(
            ["git", "snapshot", *args],
            cwd=cwd,
            stdout=full,
            stderr=subprocess.PIPE,
            env=env,
            check=False,
            timeout=120,
        )


_AHEAD = r"""
import os, sys, time
real = time.time
time.time = lambda: real() + float(os.environ["SKEW_S"])
from git_snapshot.hookmain import main
sys.argv = ["git-snapshot", *sys.argv[1:]]
sys.exit(main())
"""


def gs_ahead(cwd: Path | str, skew: float, *args: str, rc: int | None = 0) -> Ran:
    """``git snapshot ARGS`` in *cwd* run by a clock *skew* seconds ahead (behind when
    negative), in that one process only: its time.time() moved, the hooks of any git it runs
    keeping the real clock."""
    env = {**os.environ, "SKEW_S": str(skew)}
    return run(cwd, sys.executable, "-c", _AHEAD, *args, rc=rc, env=env)
