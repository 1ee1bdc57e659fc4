"""RED34 D6: a damaged loss log. One flipped byte in a report's key "when" made `undo` an
internal error (KeyError), and `losses` listed the report with an empty WHEN; a log turned to
garbage read as "no loss reports for this worktree" (exit 0) and `undo` said there was nothing
to undo: the damage was never named. Now an entry that cannot be read is left out with one
line saying how many and where; nothing reads as "none" while some cannot be read, and undo
refuses to pick a report when the one it cannot read may be the latest.

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import write

EDIT = b"uncommitted work\n"


def _destroyed(repo: Path, edit: bytes = EDIT) -> None:
    """`git checkout -f x` destroys a saved edit of f.txt: a loss report."""
    write(repo / "f.txt", edit)
    gs(repo, "create", "-m", "s")
    git(repo, "checkout", "-q", "-f", "x")
    git(repo, "checkout", "-q", "main")


def _log() -> Path:
    (log,) = (Path(os.environ["GIT_SNAPSHOT_STORE"]) / "losses").glob("*.jsonl")
    return log


def _setup(repo: Path) -> None:
    commit(repo, "f.txt", b"a\n")
    git(repo, "branch", "x")
    git(repo, "checkout", "-q", "x")
    commit(repo, "f.txt", b"b\n")
    git(repo, "checkout", "-q", "main")
    install(repo)


def test_a_flipped_byte_is_named_not_a_crash(repo: Path) -> None:
    _setup(repo)
    _destroyed(repo)
    log = _log()
    data = bytearray(log.read_bytes())
    data[5] ^= 0x55  # in the key "when"
    log.write_bytes(bytes(data))
    listed = gs(repo, "losses", rc=1)
    assert "no loss reports" not in listed.out, listed.out
    (line,) = listed.ours
    assert "1 entry of the loss log" in line and str(log) in line, listed.err
    ran = gs(repo, "undo", rc=1)  # (no internal error: gs checks)
    assert "1 entry of the loss log" in ran.err and "undo does not pick" in ran.err, ran.err
    assert (repo / "f.txt").read_bytes() == b"a\n"  # nothing written


def test_garbage_never_reads_as_none(repo: Path) -> None:
    _setup(repo)
    _destroyed(repo)
    log = _log()
    log.write_bytes(
        b"\x8f{]\x00garbage\n" * 3 + os.urandom(64).replace(b"\n", b".").replace(b"\r", b".")
    )
    listed = gs(repo, "losses", rc=1)
    assert "no loss reports" not in listed.out, listed.out
    assert "4 entries of the loss log" in listed.err, listed.err
    assert gs(repo, "losses", "--json", rc=1).out.strip() == "[]"
    ran = gs(repo, "undo", rc=1)
    assert "no loss report to undo" not in ran.err, ran.err
    assert "cannot be read" in ran.err, ran.err


def test_an_older_damaged_entry_leaves_the_latest_undoable(repo: Path) -> None:
    _setup(repo)
    _destroyed(repo)
    log = _log()
    log.write_bytes(b'{"snapshot": "one", "lost": 3}\n' + log.read_bytes())
    _destroyed(repo, b"the newer edit\n")
    listed = gs(repo, "losses")
    assert "1 entry of the loss log" in listed.err, listed.err
    assert "f.txt" in listed.out, listed.out
    ran = gs(repo, "undo")
    assert "1 entry of the loss log" in ran.err, ran.err
    assert (repo / "f.txt").read_bytes() == b"the newer edit\n"


def test_an_undo_note_with_a_field_of_another_type_is_damage(repo: Path) -> None:
    """An undo note whose "not_undone" is not a list of ids (null) was an internal error of
    both `losses` and `undo` (TypeError): it is a damaged entry, named as one."""
    _setup(repo)
    _destroyed(repo)
    log = _log()
    (report,) = [e for e in map(json.loads, log.read_text().splitlines()) if "snapshot" in e]
    note = {"undone": report["time"], "time": report["time"] + 1, "when": "now"}
    note |= {"not_undone": None, "worktree": report["worktree"], "key": report["key"]}
    with log.open("a") as f:
        f.write(json.dumps(note) + "\n")
    listed = gs(repo, "losses")  # (no internal error: gs checks)
    assert "1 entry of the loss log" in listed.err, listed.err
    assert "f.txt" in listed.out, listed.out
    ran = gs(repo, "undo", rc=1)
    assert "1 entry of the loss log" in ran.err, ran.err


def test_a_flipped_bit_in_an_escaped_name_is_damage(repo: Path) -> None:
    """A name's undecodable byte is written "\\udc80" (os.fsdecode's); one flipped bit makes
    it "\\udb80", a lone surrogate no name's bytes give, which `losses` met as an internal
    error (UnicodeEncodeError): the entry is a damaged one, named as one."""
    _setup(repo)
    _destroyed(repo)
    log = _log()
    log.write_bytes(log.read_bytes().replace(b'"path": "f.txt"', b'"path": "f\\udb80.txt"'))
    listed = gs(repo, "losses", rc=1)  # (no internal error: gs checks)
    assert "1 entry of the loss log" in listed.err, listed.err
