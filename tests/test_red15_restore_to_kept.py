"""restore ID --to DIR where DIR lies in no worktree takes no pre-restore snapshot: a file of
DIR in the way whose content differs from the snapshot's was overwritten ("update t", exit 0)
and lost for good, while a non-empty folder in the way was kept. Such a file is kept now, and
named in one line with what to do; --dry-run says the same."""

from __future__ import annotations

from pathlib import Path

from clihelpers import gs


def _setup(repo: Path, tmp_path: Path) -> Path:
    (repo / "t").write_text("snapshot\n")
    (repo / "same").write_text("same\n")
    (repo / "d").mkdir()
    (repo / "d" / "f").write_text("f\n")
    gs(repo)  # snapshot 1
    out = tmp_path / "out"
    out.mkdir()
    (out / "t").write_text("precious\n")
    (out / "same").write_text("same\n")
    (out / "d").write_text("a file where the snapshot has a folder\n")
    return out


def test_restore_to_a_plain_folder_keeps_its_files_that_differ(repo: Path, tmp_path: Path) -> None:
    out = _setup(repo, tmp_path)
    dry = gs(repo, "restore", "1", "--to", str(out), "--dry-run")
    ran = gs(repo, "restore", "1", "--to", str(out))
    assert (out / "t").read_text() == "precious\n"
    assert (out / "d").read_text() == "a file where the snapshot has a folder\n"
    assert (out / "README").read_text() == "hello\n"  # what was not in the way is written
    for said in (dry.out, ran.out):
        line = next(x for x in said.splitlines() if x.startswith("kept 2 path(s)"))
        assert "d, t" in line and "empty folder" in line, said
        assert "update t" not in said and "update d" not in said, said


def test_a_named_path_is_kept_too(repo: Path, tmp_path: Path) -> None:
    out = _setup(repo, tmp_path)
    ran = gs(repo, "restore", "1", "t", "--to", str(out))
    assert (out / "t").read_text() == "precious\n"
    assert "kept 1 path(s)" in ran.out, ran.out
    below = gs(repo, "restore", "1", "d/f", "--to", str(out), rc=1)
    assert "move it aside" in below.err, below.err
    assert (out / "d").is_file()


def test_restore_to_a_folder_in_the_worktree_still_overwrites_what_it_saved_first(
    repo: Path,
) -> None:
    (repo / "sub").mkdir()
    (repo / "sub" / "t").write_text("snapshot\n")
    gs(repo)  # snapshot 1
    (repo / "sub" / "t").write_text("edited\n")
    ran = gs(repo, "restore", "1", "sub", "--to", "sub2")
    assert "kept" not in ran.out, ran.out
    (repo / "sub2" / "sub" / "t").write_text("edited\n")
    again = gs(repo, "restore", "1", "sub", "--to", "sub2")
    assert (repo / "sub2" / "sub" / "t").read_text() == "snapshot\n"  # saved first: overwritten
    assert "what was there before is in snapshot" in again.out, again.out
