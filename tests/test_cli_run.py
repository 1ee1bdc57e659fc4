"""``git snapshot run -- CMD``: snapshot first, pass CMD's exit status through, name what CMD
destroyed, and print a restore command that brings it back."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from test_cli_helpers import NON_UTF8
from test_cli_helpers import query
from test_cli_helpers import tree_state
from test_cli_helpers import write


def _setup(repo: Path, modules: int = 3) -> None:
    write(repo / ".gitignore", "node_modules/\n.env\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-q", "-m", "ignore")
    write(repo / ".env", "TOKEN=secret\n", 0o600)
    for i in range(modules):
        write(repo / "node_modules" / f"m{i % 7}" / f"i{i}.js", f"// {i}\n")


def _run_printed_restore(ran: Ran, cwd: Path) -> None:
    """Run the restore command the report printed as a user pastes it: through a shell and
    real git, which finds git-snapshot on PATH."""
    m = re.search(r"restore with: (git snapshot restore .*)\)$", ran.err, re.M)
    assert m, ran.err
    exe = Path(sys.executable).parent / "git-snapshot"
    assert exe.exists()
    env = {**os.environ, "PATH": f"{exe.parent}{os.pathsep}{os.environ['PATH']}"}
    res = subprocess.run(["sh", "-c", m.group(1)], cwd=cwd, env=env, capture_output=True)
    err = res.stderr.decode(errors="replace")
    assert res.returncode == 0 and "Traceback" not in err, (m.group(1), err)


def test_run_reports_what_the_command_destroyed_and_how_to_get_it_back(repo: Path) -> None:
    _setup(repo)
    before = tree_state(repo)

    ran = gs(repo, "run", "--", "rm", "-rf", "node_modules", ".env")
    assert not (repo / ".env").exists() and not (repo / "node_modules").exists()
    (snap,) = query(repo, "list")
    assert snap["trigger"] == "run" and snap["message"] == "rm -rf node_modules .env"
    assert f"snapshot {snap['id']} taken before: rm -rf node_modules .env" in ran.err
    assert ran.out == ""  # the report is on stderr (RED30): stdout is the command's
    (line,) = [ln for ln in ran.err.splitlines() if " destroyed " in ln]
    assert "rm -rf node_modules .env destroyed 4 ignored files" in line
    assert f"saved in snapshot {snap['id']}" in line
    for name in (".env", "node_modules/m0/i0.js", "node_modules/m2/i2.js"):
        assert name in line

    _run_printed_restore(ran, repo)
    after = tree_state(repo)
    for path, entry in before.items():  # every destroyed file, as it was
        if entry[0] == "file":
            assert after[path] == entry, path


def test_run_passes_the_exit_status_through(repo: Path) -> None:
    _setup(repo)
    ran = gs(repo, "run", "--", "sh", "-c", "rm .env; exit 7", rc=7)
    assert ".env" in ran.err and "destroyed 1 ignored file" in ran.err
    _run_printed_restore(ran, repo)
    assert (repo / ".env").read_text() == "TOKEN=secret\n"

    ran = gs(repo, "run", "--", "no-such-command-anywhere", rc=127)
    assert "command not found" in ran.err and ran.out == ""
    write(repo / "not-executable", "#!/bin/sh\n", 0o644)
    ran = gs(repo, "run", "--", "./not-executable", rc=126)
    assert "cannot run" in ran.err

    ran = gs(repo, "run", "-m", "harmless", "--", "true")
    assert ran.out == "" and "destroyed" not in ran.err  # nothing destroyed: nothing said
    snaps = query(repo, "list")
    # a snapshot before every command, even one that failed to start (and one pre-restore)
    assert [s["trigger"] for s in snaps] == ["run", "pre-restore", "run", "run", "run"]
    assert snaps[-1]["message"] == "harmless"

    ran = gs(repo, "run", rc=2)
    assert "usage" in ran.err


def test_run_ignores_committed_content_but_names_uncommitted_edits(repo: Path) -> None:
    write(repo / "clean.txt", "committed\n")
    write(repo / "edited.txt", "committed\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "two files")
    write(repo / "edited.txt", "committed\nplus an edit nobody committed\n")

    ran = gs(repo, "run", "--", "git", "reset", "-q", "--hard")
    assert "destroyed 1 file with uncommitted edits: edited.txt" in ran.err
    assert "clean.txt" not in ran.err  # git still has it: no false alarm
    _run_printed_restore(ran, repo)
    assert (repo / "edited.txt").read_text() == "committed\nplus an edit nobody committed\n"


def test_run_from_a_subdirectory_prints_paths_that_work_there(repo: Path) -> None:
    _setup(repo)
    write(repo / "sub" / "local.txt", "untracked\n")
    ran = gs(repo / "sub", "run", "--", "rm", "../.env", "local.txt")
    assert "restore with: git snapshot restore 1 ../.env local.txt)" in ran.err
    _run_printed_restore(ran, repo / "sub")
    assert (repo / ".env").read_text() == "TOKEN=secret\n"
    assert (repo / "sub" / "local.txt").read_text() == "untracked\n"


def test_run_restore_command_for_a_big_tree_works_as_printed(repo: Path) -> None:
    _setup(repo, modules=300)
    before = tree_state(repo)
    ran = gs(repo, "run", "--", "rm", "-rf", "node_modules", ".env")
    assert "destroyed 301 ignored files" in ran.err
    _run_printed_restore(ran, repo)
    assert tree_state(repo) == before


def test_run_restore_command_for_a_non_utf8_name_works_as_printed(repo: Path) -> None:
    with open(os.path.join(os.fsencode(repo), NON_UTF8), "wb") as f:
        f.write(b"precious\n")
    ran = gs(repo, "run", "--", "sh", "-c", "rm -f caf*")
    assert "destroyed 1 untracked file" in ran.err
    _run_printed_restore(ran, repo)
    with open(os.path.join(os.fsencode(repo), NON_UTF8), "rb") as f:
        assert f.read() == b"precious\n"
