"""`git snapshot watch --install-service` on a machine whose paths hold a space or a "%"
(session 14, USER2): the unit wrote them bare, and systemd splits ExecStart= and Environment=
on spaces and expands "%" specifiers. A store "/home/me/my store" reached the daemon as
"/home/me/my" (systemd logs "Invalid environment assignment, ignoring: store"): its watch
snapshots went to another store than the hooks', or it refused to start at every login."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from git_snapshot.commands.watch import unit_text


def test_the_unit_quotes_a_store_with_a_space() -> None:
    text = unit_text("/opt/gs/bin/git-snapshot", "/home/me/my store")
    assert 'Environment="GIT_SNAPSHOT_STORE=/home/me/my store"\n' in text, text
    assert 'ExecStart="/opt/gs/bin/git-snapshot" watch --foreground\n' in text, text


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_reads_the_unit_of_odd_paths_as_written(tmp_path: Path) -> None:
    exe = tmp_path / "my tools" / "100%" / "$HOME" / "git-snapshot"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    unit = tmp_path / "git-snapshot-watch.service"
    unit.write_text(unit_text(str(exe), str(tmp_path / "my store" / "50%h")))
    ran = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    said = [
        ln
        for ln in (ran.stdout + ran.stderr).splitlines()
        if unit.name in ln and "Command 'man " not in ln  # Documentation=: no page installed
    ]
    assert not said, (ran.stdout + ran.stderr, unit.read_text())
