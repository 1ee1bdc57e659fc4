"""Red team (session 9): every restore command git-snapshot prints works when its one line is
pasted into bash exactly as printed (sh too, but for a name ending in a newline), for any file
name git allows: a newline, a tab, an escape sequence, a leading '-', bytes that are not UTF-8.
The line itself holds no control character (a name's escape sequence must not reach the
terminal)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from clihelpers import VENV_BIN
from clihelpers import gs

NAMES = [
    b"new\nline.env",
    b"tab\there.env",
    b"esc\x1b[31mred.env",
    b"-dash.env",
    b"trail\n",
    b"bad\xff\xfe.env",
    b'quote\'s "and" $HOME `x` \\.env',
    b"bell\x07\x7f.env",
    b"c1\xc2\x9b31m.env",  # U+009B: a one-byte CSI for some terminals
]

_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f\x80-\x9f]")


def _bash(cwd: Path, line: str) -> None:
    """Run *line* as bash reads it pasted (PATH finds this venv's git-snapshot)."""
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    res = subprocess.run(
        ["bash", "-c", line], cwd=cwd, env=env, capture_output=True, check=False, timeout=120
    )
    assert res.returncode == 0, (line, res.stdout, res.stderr)


def _command(line: str) -> str:
    """The restore command of a report line: after 'restore with: ', up to its last ')'."""
    assert "restore with: " in line, line
    return line.split("restore with: ", 1)[1].rsplit(")", 1)[0]


def test_a_printed_restore_command_is_one_line_that_works_pasted(repo: Path) -> None:
    (repo / ".gitignore").write_bytes(b"*.env\ntrail*\nbad*\n")
    for name in NAMES:
        (repo / os.fsdecode(name)).write_bytes(b"data of " + name)
    ran = gs(repo, "run", "--", "git", "clean", "-fdx")
    lines = [ln for ln in (ran.out + ran.err).split("\n") if "restore with: " in ln]
    assert len(lines) == 1, ran.out + ran.err
    (line,) = lines
    assert not _CONTROL.search(line) and "\t" not in line, repr(line)
    for name in NAMES:
        assert not os.path.lexists(repo / os.fsdecode(name))
    _bash(repo, _command(line))
    for name in NAMES:
        assert (repo / os.fsdecode(name)).read_bytes() == b"data of " + name, name


def test_a_printed_restore_command_of_one_dashed_name_works_pasted(repo: Path) -> None:
    """The '--' goes before the paths whenever one of them begins with '-'."""
    (repo / ".gitignore").write_bytes(b"*.env\n")
    (repo / "-rf.env").write_bytes(b"secret\n")
    ran = gs(repo, "run", "--", "rm", "--", "-rf.env")
    (line,) = [ln for ln in (ran.out + ran.err).split("\n") if "restore with: " in ln]
    _bash(repo, _command(line))
    assert (repo / "-rf.env").read_bytes() == b"secret\n"


def test_losses_and_undo_after_hostile_names(repo: Path) -> None:
    """The losses listing shows the names escaped, on one line each; undo brings them back."""
    (repo / ".gitignore").write_bytes(b"*.env\ntrail*\nbad*\n")
    for name in NAMES:
        (repo / os.fsdecode(name)).write_bytes(b"data of " + name)
    gs(repo, "run", "--", "git", "clean", "-fdx")
    listed = gs(repo, "losses")
    assert not _CONTROL.search(listed.replace("\n", "")), repr(listed)
    gs(repo, "undo")
    for name in NAMES:
        assert (repo / os.fsdecode(name)).read_bytes() == b"data of " + name, name


def test_a_watcher_bursts_restore_command_of_a_dashed_folder_works_pasted(
    repo: Path, store_dir: Path
) -> None:
    """The watcher's loss line for an rm -rf of '-build/' (bursts.message, as record prints
    it) is pasted into bash: the folder comes back, never taken for an option."""
    from git_snapshot.losses import Loss
    from git_snapshot.watch import bursts

    (repo / ".gitignore").write_bytes(b"-build/\n")
    (repo / "-build").mkdir()
    (repo / "-build" / "out.o").write_bytes(b"object\n")
    (repo / "-build" / "new\nline.o").write_bytes(b"odd\n")
    made = gs(repo, "create")
    snap = int(made.split()[1].rstrip(":"))
    for name in os.listdir(repo / "-build"):
        os.unlink(repo / "-build" / name)
    os.rmdir(repo / "-build")
    gone = [
        Loss(b"-build/out.o", "ignored", "deleted"),
        Loss(b"-build/new\nline.o", "ignored", "deleted"),
    ]
    line = bursts.message(str(repo), gone, b"-build", 0.0, snap, [b"-build"])
    assert "\n" not in line, repr(line)
    _bash(repo, line.split("restore with: ", 1)[1])
    assert (repo / "-build" / "out.o").read_bytes() == b"object\n"
    assert (repo / "-build" / "new\nline.o").read_bytes() == b"odd\n"


def test_a_command_naming_a_hostile_file_is_reported_on_one_line(repo: Path) -> None:
    """'rm -f *.env' expanded by the shell to a name holding ESC and a newline: the run's own
    lines, its loss report, list's message and losses' command column are each one line with
    no control character (it printed them raw: the terminal took the escape sequence, and
    the report split in two)."""
    (repo / ".gitignore").write_bytes(b"*.env\n")
    name = "y\x1b[2J\n.env"
    (repo / name).write_bytes(b"secret\n")
    ran = gs(repo, "run", "--", "rm", "-f", name)
    for text in (ran.out, ran.err, gs(repo, "list"), gs(repo, "losses"), gs(repo, "show", "1")):
        for line in text.split("\n"):
            assert not _CONTROL.search(line) and "\t" not in line, repr(line)
    (line,) = [ln for ln in (ran.out + ran.err).split("\n") if "restore with: " in ln]
    assert "rm -f \"$(printf 'y\\033[2J\\012.env')\" destroyed" in line, line
    _bash(repo, _command(line))
    assert (repo / name).read_bytes() == b"secret\n"
