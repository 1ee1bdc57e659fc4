"""RED32 B9: ``show ID --json PATH`` was a usage error (argparse's ``nargs="*"`` after an
option), while ``restore ID --dry-run PATH`` and ``show ID PATH --json`` worked: the words
that follow an option go to the command's list of PATHs (or IDs) as restore's did."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import gs

from git_snapshot.cliparse import parse


def test_show_takes_paths_after_its_options(repo: Path) -> None:
    (repo / "f").write_text("f\n")
    (repo / "g").write_text("g\n")
    gs(repo)
    one = json.loads(gs(repo, "show", "1", "--json", "f").out)
    assert one == json.loads(gs(repo, "show", "1", "f", "--json").out)
    assert one == json.loads(gs(repo, "show", "--json", "1", "f").out)
    assert [e["path"] for e in one["entries"]] == ["f"], one


@pytest.mark.parametrize(
    ("argv", "name", "want"),
    [
        (["show", "1", "--json", "a", "b"], "paths", ["a", "b"]),
        (["show", "1", "a", "--json", "b"], "paths", ["a", "b"]),
        (["diff", "1", "--stat", "2"], "ids", ["1", "2"]),
        (["forget", "1", "--dry-run", "2"], "ids", ["1", "2"]),
        (["verify", "1", "--read-data", "2"], "ids", ["1", "2"]),
        (["restore", "1", "--dry-run", "a"], "paths", ["a"]),
    ],
)
def test_the_words_after_an_option(argv: list[str], name: str, want: list[str]) -> None:
    assert parse(argv)[1].texts(name) == want


def test_an_unknown_option_is_still_a_usage_error() -> None:
    with pytest.raises(SystemExit) as info:
        parse(["show", "1", "--json", "--bogus", "f"])
    assert info.value.code == 2
