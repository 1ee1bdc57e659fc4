"""Review of da5a3b3 (session 43, RR43): a rebase's post-rewrite gets lostfrom._switch_kept's
plain-switch rule when its todo held "picks only" (lostfrom._rebased_through), `reword` and
`squash` among them. Both open the commit message editor in the middle of the rebase, as
`fixup -c` does: a pause like an `edit` stop, where the user may write an ignored file at a
path an earlier pick deleted (tracked in ORIG_HEAD) and a later one writes again. git writes
over it (an ignored file) and the rule took the path for a file holding ORIG_HEAD's version:
the "not saved: v" line (said before da5a3b3, a path of v/ being rewritten) was dropped."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write

TODO = {
    "reword": "sed -i '1s/^pick/reword/'",
    "squash": "sed -i '2s/^pick/squash/'",
    "fixup -c": "sed -i '2s/^pick/fixup -c/'",
}


@pytest.mark.parametrize("how", list(TODO))
def test_an_ignored_file_written_at_an_editor_pause_a_later_pick_overwrote_is_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    put_venv_on_path(monkeypatch)
    write(repo / ".gitignore", b"gen.txt\n")
    git(repo, "add", ".gitignore")
    commit(repo, "v/t.txt", b"tracked\n")
    commit(repo, "v/gen.txt", b"one\n", force=True)  # (ignored, tracked all the same)
    git(repo, "config", "snapshot.exclude", "/v/")
    install(repo)
    git(repo, "checkout", "-q", "-b", "up")
    commit(repo, "v/t.txt", b"up\n")  # (the rebase rewrites a path of v/: the line is asked)
    git(repo, "checkout", "-q", "-b", "mine", "main")
    git(repo, "rm", "-q", "v/gen.txt")
    git(repo, "commit", "-qm", "c1: no gen")
    commit(repo, "b.txt", b"b\n", msg="c2")
    commit(repo, "v/gen.txt", b"one\n", msg="c3: gen again", force=True)
    mine = repo / "v" / "gen.txt"
    # the editor, at the pause: the user writes an ignored file where c1 deleted one
    editor = f"sh -c 'echo mine, ignored, in no snapshot > {mine}'"
    ran = git(repo, "rebase", "-q", "-i", "up", GIT_SEQUENCE_EDITOR=TODO[how], GIT_EDITOR=editor)
    assert mine.read_bytes() == b"one\n"  # c3's pick wrote over it
    assert any("not saved: v" in ln for ln in ran.said), ran.said
