"""RED32 A2: ``-C PATH`` as git's: each relative -C is relative to the one before it, and an
empty one (``-C ""``) leaves the directory as it is."""

from __future__ import annotations

from pathlib import Path

from clihelpers import git
from clihelpers import gs

from git_snapshot.cliparse import parse


def test_several_dash_c_chain_and_an_empty_one_changes_nothing(tmp_path: Path) -> None:
    repo = tmp_path / "top" / "repo"
    repo.mkdir(parents=True)
    git(repo, "init", "-q")
    (repo / "x").write_text("x\n")
    gs(repo, "-m", "here")
    for args in (["-C", "top", "-C", "repo"], ["-C", "top/repo", "-C", ""], ["-Ctop", "-Crepo"]):
        ran = gs(tmp_path, *args, "list")
        assert "here" in ran.out, (args, ran.err)
    # an absolute -C starts again, as in git
    assert "here" in gs(tmp_path, "-C", "nowhere", "-C", str(repo), "list").out


def test_the_parsed_directory() -> None:
    assert parse(["list"])[1].cwd == "."
    assert parse(["-C", "a", "-C", "b/c", "-C", "", "list"])[1].cwd == "a/b/c"
    assert parse(["-C", "a", "-C", "/abs", "-C", "d", "list"])[1].cwd == "/abs/d"
    assert parse(["-C", "", "list"])[1].cwd == "."
