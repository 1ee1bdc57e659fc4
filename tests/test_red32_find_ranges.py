"""RED32 A4: ``find`` printed the snapshots holding a path as the range ``1-3`` after ``forget
2``, while --json said [1, 3]: a range now spans only ids that exist."""

from __future__ import annotations

from pathlib import Path

from clihelpers import gs

from git_snapshot.commands.find import _ids


def _row(repo: Path) -> list[str]:
    (line,) = [ln for ln in gs(repo, "find", "x").out.splitlines() if ln.startswith("x ")]
    return line.split()


def test_a_forgotten_snapshot_breaks_the_range(repo: Path) -> None:
    (repo / "x").write_text("x\n")
    for _ in range(3):
        gs(repo)
    assert _row(repo)[1] == "1-3"
    gs(repo, "forget", "2")
    assert _row(repo)[1] == "1,3"


class _S:
    def __init__(self, id: int) -> None:
        self.id = id


def test_the_ids_as_printed() -> None:
    def ids(*numbers: int) -> str:
        return _ids([_S(n) for n in numbers])  # type: ignore[misc]

    assert ids(4) == "4"
    assert ids(3, 4, 5, 6) == "3-6"
    assert ids(3, 6) == "3,6"
    assert ids(1, 2, 3, 5, 7, 8) == "1-3,5,7-8"
    # many gaps: how many, and between which (the full list is in --json)
    assert ids(1, 3, 5, 7, 9) == "5 of 1-9"
