"""RED19: a loss report's kinds (untracked, ignored) come from the labels of the snapshot
taken before the loss: a folder ignored when its files were first saved and un-ignored (or
the other way) before a `git clean` must be reported with the label it has then, whatever a
record of its unchanged files kept (inherit: below an ignored folder no labeller call)."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b"build/\n")
    install(repo)
    return repo


def _kinds(ran: object) -> list[tuple[str, str]]:
    return [(rep.kinds, rep.names) for rep in ran.reports]  # type: ignore[attr-defined]


@pytest.mark.parametrize("first_ignored", [True, False])
def test_a_clean_reports_the_labels_of_the_last_rules(hooked: Path, first_ignored: bool) -> None:
    r = hooked
    write(r / "build" / "out" / "x.o", b"object\n")
    write(r / "build" / "notes.txt", b"notes\n")
    if not first_ignored:
        write(r / ".gitignore", b"")
    gs(r, "create")
    gs(r, "create")  # (a second: the folder's records made and kept)
    write(r / ".gitignore", b"" if first_ignored else b"build/\n")
    ran = gs(r, "run", "--", "git", "clean", "-fdxq")
    assert not (r / "build").exists()
    kinds = _kinds(ran)
    assert len(kinds) == 1, ran.said
    want = "untracked" if first_ignored else "ignored"
    assert kinds[0][0] == f"2 {want} files", ran.said
