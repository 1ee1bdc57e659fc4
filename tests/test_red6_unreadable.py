"""Red team (session 11): ``git snapshot run -- CMD`` whose snapshot could not read a file
(EACCES) said nothing about it, and when CMD then deleted that file, its loss report named
only the other files: the unreadable one was gone with no word. Now the run says before CMD
that the file is not in its snapshot, and the report names it as not saved."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from readhelp import python_reads  # noqa: F401  (pytestmark below)

from git_snapshot import cli

pytestmark = pytest.mark.usefixtures("python_reads")  # (they watch os.open/os.read)


def test_run_names_an_unreadable_file_it_could_not_save_and_cmd_deleted(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".gitignore").write_text("*.env\n")
    (repo / "secret.env").write_text("s\n")
    (repo / "other.env").write_text("o\n")
    real = os.open

    def no_read(path: str | bytes, flags: int, *args: object, **kw: object) -> int:
        named = os.fsencode(path) if isinstance(path, (str, bytes)) else b""
        if named.endswith(b"secret.env") and not flags & (os.O_WRONLY | os.O_RDWR):
            raise PermissionError(13, "Permission denied", path)
        return real(path, flags, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", no_read)  # root reads mode 000: a refusal as EACCES
    monkeypatch.chdir(repo)
    cmd = [sys.executable, "-c", "import os; os.remove('secret.env'); os.remove('other.env')"]
    assert cli.main(["run", "--", *cmd]) == 0
    got = capsys.readouterr()
    err = got.out + got.err
    lines = err.splitlines()
    before = [ln for ln in lines if "NOT in snapshot 1" in ln]
    assert len(before) == 1 and "secret.env" in before[0], err
    (unsaved,) = [ln for ln in lines if ln.startswith("git-snapshot: not saved:")]
    assert "secret.env" in unsaved and "could not be read" in unsaved, err
    assert any("destroyed" in ln and "other.env" in ln for ln in lines), err
