"""Session 47 review (rj47) of the restore's janitor (store/leftovers.py: Run._watch, _janitor).

1. A run made where the caller's stdin, stdout or stderr is closed (cron, `<&-`, a daemon)
   got its pipes at 0-2: the janitor put /dev/null over its own pipe's reading end, read
   its end at once while the run lived, and gave up on the record it could not lock: a
   later kill of the run left its temp names again (the finding the janitor fixes).
2. The janitor closed what it inherited with os.closerange(low, 2**30): where the kernel
   (before 5.9), the C library Python was built with, or a sandbox has no close_range,
   that is a billion close() calls, minutes of CPU, and the run waits for the janitor's
   word that it has closed them: every restore and export hung that long.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from storehelpers import ours
from storehelpers import wait_gone

TMP = ".gsnap-tmp-"

# A run (closing the descriptors given first, as its caller had them), whose janitor's
# descriptors are written to OUT, then a temp file named, written and held in HERE, then
# killed.
RUN = """
import os, signal, sys
for fd in map(int, filter(None, sys.argv[4].split(","))):
    os.close(fd)
from git_snapshot.store import leftovers
store, here, out = sys.argv[1:4]
run = leftovers.Run(store)
fds = sorted(os.listdir(f"/proc/{run.janitor}/fd")) if run.janitor else []
links = [os.readlink(f"/proc/{run.janitor}/fd/{n}") for n in fds]
mine = os.readlink(f"/proc/self/fd/{run.done}") if run.done >= 0 else ""
fd = os.open(here, os.O_RDONLY)
tmp = run.name(fd, b"f")
t = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600, dir_fd=fd)
leftovers.hold(t)
os.write(t, b"half")
with open(out, "w") as f:
    f.write(repr((run.janitor, links, mine, os.fsdecode(tmp))))
os.kill(os.getpid(), signal.SIGKILL)
"""


def _run(
    store_dir: Path, here: Path, out: Path, closed: str, *pre: str
) -> tuple[int, list[str], str, str]:
    store_dir.mkdir(parents=True, exist_ok=True)
    try:
        res = subprocess.run(
            [*pre, sys.executable, "-c", RUN, str(store_dir), str(here), str(out), closed],
            capture_output=True,
            timeout=60,  # a bound only: the old janitor's close() loop took minutes
        )
    except subprocess.TimeoutExpired:
        for pid in ours(store_dir):  # (the run, and its janitor in a session of its own)
            os.kill(pid, signal.SIGKILL)
        raise
    assert res.returncode in (-signal.SIGKILL, 0), res  # (under strace: its own status)
    janitor, links, mine, tmp = eval(out.read_text())
    return janitor, links, mine, tmp


def _kept_only_its_pipe(links: list[str], mine: str) -> None:
    """The janitor's descriptors: the run's pipe (the one the run writes 'done' to),
    /dev/null, and perhaps the pipe it has just said it is ready on (closed next)."""
    assert links.count(mine) == 1, (links, mine)
    others = [t for t in links if t not in ("/dev/null", mine)]
    assert len(others) <= 1 and all(t.startswith("pipe:") for t in others), links


@pytest.mark.parametrize("closed", ["0", "1", "0,1,2"])
def test_a_janitor_keeps_its_pipe_when_the_callers_stdio_is_closed(
    store_dir: Path, tmp_path: Path, closed: str
) -> None:
    here, out = tmp_path / "here", tmp_path / "out"
    here.mkdir()
    janitor, links, mine, tmp = _run(store_dir, here, out, closed)
    assert janitor > 0
    _kept_only_its_pipe(links, mine)
    wait_gone(store_dir)
    assert not (here / tmp).exists()  # the killed run's temp name, removed by its janitor
    assert not [n for n in os.listdir(here) if n.startswith(TMP)]


def test_a_run_does_not_wait_minutes_where_close_range_is_missing(
    store_dir: Path, tmp_path: Path
) -> None:
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("no strace here")
    # close_range fails as on a kernel before 5.9 (only it is stopped: --seccomp-bpf)
    pre = [strace, "-f", "--seccomp-bpf", "-o", os.devnull, "-e", "trace=close_range"]
    pre += ["-e", "inject=close_range:error=ENOSYS"]
    probe = subprocess.run([*pre, "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"strace cannot inject here: {probe.stderr!r}")
    here, out = tmp_path / "here", tmp_path / "out"
    here.mkdir()
    janitor, links, mine, tmp = _run(store_dir, here, out, "", *pre)
    assert janitor > 0
    _kept_only_its_pipe(links, mine)
    assert links.count("/dev/null") == 3, links
    wait_gone(store_dir)
    assert not (here / tmp).exists()  # the killed run's temp name, removed by its janitor
    assert not [n for n in os.listdir(here) if n.startswith(TMP)]


# A run in a program whose fork handlers (a library's, os.register_at_fork) hold up every
# forked child: the janitor never says it is ready.
STUCK = """
import os, sys, time
from git_snapshot.store import leftovers
leftovers.JANITOR_START = 0.2
os.register_at_fork(after_in_child=lambda: time.sleep(3600))
run = leftovers.Run(sys.argv[1])
print(run.janitor, run.done, run.fd >= 0, flush=True)
run.close()
"""


def test_a_run_does_not_wait_for_a_janitor_that_does_not_start(store_dir: Path) -> None:
    """3. The run waited for the janitor's word with no bound: a janitor held up before it
    (a fork handler, a child stopped) held up every restore and export for as long."""
    store_dir.mkdir(parents=True, exist_ok=True)
    try:
        res = subprocess.run(
            [sys.executable, "-c", STUCK, str(store_dir)],
            capture_output=True,
            timeout=60,  # a bound only: the old run waited an hour
        )
    except subprocess.TimeoutExpired:
        for pid in ours(store_dir):
            os.kill(pid, signal.SIGKILL)
        raise
    assert res.returncode == 0, res
    assert res.stdout.split() == [b"0", b"-1", b"True"], res  # no janitor: the fallback's
    wait_gone(store_dir)  # the janitor that did not start: killed, not left behind


SUB = """
import sys
from git_snapshot.store import leftovers
try:
    run = leftovers.Run(sys.argv[1])
except BaseException as exc:
    print("raised", type(exc).__name__, exc)
else:
    print("ran", run.fd >= 0, run.janitor)
    run.close()
"""


def test_a_run_in_a_subinterpreter_goes_on_without_a_janitor(store_dir: Path) -> None:
    """4. os.fork() raises RuntimeError in a subinterpreter (mod_wsgi, an interpreter
    pool): every export and restore made there through the API failed, where the run can
    do without its janitor."""
    store_dir.mkdir(parents=True, exist_ok=True)
    sub = SUB.replace("sys.argv[1]", repr(str(store_dir)))
    script = (
        "import sys\n"
        "try:\n"
        "    import _xxsubinterpreters as interpreters\n"
        "except ImportError:\n"
        "    import _interpreters as interpreters\n"
        "iid = interpreters.create()\n"
        f"interpreters.run_string(iid, {sub!r})\n"
    )
    res = subprocess.run([sys.executable, "-c", script], capture_output=True)
    if b"ImportError" in res.stderr or b"ModuleNotFoundError" in res.stderr:
        pytest.skip("no subinterpreters here")
    assert res.returncode == 0, res
    assert res.stdout.split() == [b"ran", b"True", b"0"], res
