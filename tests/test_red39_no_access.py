"""RED39 C4: a restore run by a user without permission to write in one folder.

(a) A whole restore that could not create a file in a folder it may not search (rw-) said
"restore stopped at .../inside" and nothing else, though it had written the rest, files sorted
after that folder too: no create line, no summary. Now, as for a file that cannot be written
over (chattr +i), it writes everything else, names each path it could not write
(``NOT WRITTEN path: why``) and exits 1.
(b) A file changed and made unreadable after the snapshot was "kept" as a path "that no
snapshot holds", though the restore's own snapshot holds it: what no snapshot holds is what
it holds now, which the pre-restore snapshot could not read. The line now says so.

The suite runs as root, whom no permission stops: the commands run without the capabilities
that bypass file permissions (setpriv), as tests/test_red32_readonly_perms.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import Ran
from clihelpers import gs
from clihelpers import run
from hookhelpers import install
from hookhelpers import write

AS_A_USER = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]

# (also the mark of the review39 foreign-folder tests, which import these helpers)
NEEDS_ROOT_AND_SETPRIV = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root (to drop the capabilities that bypass permissions) and setpriv",
)
pytestmark = NEEDS_ROOT_AND_SETPRIV


def as_user(repo: Path, *argv: str, rc: int | None = 0) -> Ran:
    """``git snapshot ARGV`` without the capabilities that bypass file permissions."""
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return run(repo, *AS_A_USER, "git", "snapshot", *argv, env=env, rc=rc)


def skip_unless_setpriv_drops() -> None:
    """Skip the test where setpriv cannot drop those capabilities (a container may forbid it)."""
    probe = subprocess.run([*AS_A_USER, "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"setpriv cannot drop capabilities here: {probe.stderr!r}")


@pytest.fixture
def tree(repo: Path) -> Iterator[Path]:
    """Snapshot 1 holds a/f, m/d/inside, m/locked and z/f."""
    install(repo)
    for rel in ("a/f", "m/d/inside", "m/locked", "z/f"):
        write(repo / rel, f"saved {rel}\n".encode())
    gs(repo, "-m", "full")
    skip_unless_setpriv_drops()
    try:
        yield repo
    finally:
        for p in (repo / "m" / "d", repo / "m" / "locked"):
            if p.exists():
                p.chmod(0o755)


def test_a_folder_it_may_not_write_in_stops_nothing_else(tree: Path) -> None:
    for rel in ("a/f", "m/d/inside", "z/f"):
        (tree / rel).unlink()
    (tree / "m" / "d").chmod(0o555)  # (its owner is root: chmod as a user would do)
    os.chown(tree / "m" / "d", 1234, 1234)  # not ours: the restore cannot make it writable
    ran = as_user(tree, "restore", "1", rc=1)
    assert "stopped" not in ran.err, ran.err
    for rel in ("a/f", "z/f"):
        assert (tree / rel).read_bytes() == f"saved {rel}\n".encode()
        assert f"create {rel}" in ran.out.splitlines(), ran.out
    assert not (tree / "m" / "d" / "inside").exists()
    named = [ln for ln in ran.out.splitlines() if ln.startswith("NOT WRITTEN ")]
    assert named == [
        "NOT WRITTEN m/d/inside: Permission denied",
        "NOT WRITTEN m/d: its mode and mtime: Operation not permitted",  # (only its owner's)
    ], ran.out
    last = ran.err_lines[-1]
    assert "2 path(s) could not be written" in last and "everything else was" in last, ran.err


def test_a_folder_it_may_not_search(tree: Path) -> None:
    """The finding's own case: a folder of the user's made rw- (no x) since the snapshot."""
    for rel in ("a/f", "m/d/inside", "z/f"):
        (tree / rel).unlink()
    (tree / "m" / "d").chmod(0o600)
    ran = as_user(tree, "restore", "1", rc=None)
    assert "stopped" not in ran.err, ran.err
    for rel in ("a/f", "z/f"):
        assert f"create {rel}" in ran.out.splitlines(), ran.out
    if ran.rc:  # not written: each named
        assert "NOT WRITTEN m/d/inside: Permission denied" in ran.out.splitlines(), ran.out


def test_an_unreadable_file_is_kept_as_what_it_is(tree: Path) -> None:
    (tree / "m" / "locked").write_text("changed\n")
    (tree / "m" / "locked").chmod(0o000)
    (tree / "a" / "f").unlink()
    ran = as_user(tree, "restore", "1")
    (line,) = [ln for ln in ran.out.splitlines() if ln.startswith("kept ")]
    assert "no snapshot holds" not in line, line
    assert "cannot be read, so the pre-restore snapshot cannot save" in line, line
    assert line.endswith(": m/locked"), line
    (tree / "m" / "locked").chmod(0o644)
    assert (tree / "m" / "locked").read_text() == "changed\n"
