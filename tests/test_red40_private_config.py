"""RED40 C8: the folders outside the store that hold git-snapshot's own secrets were made with
the umask's mode. ``remote add`` made ~/.config/git-snapshot (remotes.json, keys/) 0777 under
umask 000, where another user swapped remotes.json and keys/ for theirs: the next ``push``
went to their folder, under their key, and said nothing unusual. Now every folder made on the
way is 0700, and a config folder others can write (or one on a path they can change) is
refused in one line. crash.log (tracebacks naming the user's paths) was 0644: now 0600."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import committed_repo
from remotehelpers import machine
from remotehelpers import on

from git_snapshot import cli
from git_snapshot import cliparse


@pytest.fixture
def umask000() -> Iterator[None]:
    """umask 000 for this process and the commands it runs."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _added(tmp_path: Path) -> tuple[Path, dict[str, str], Path]:
    repo = committed_repo(tmp_path / "w")
    a = machine(tmp_path, "a")
    Path(a["HOME"]).chmod(0o755)  # (a home others may enter, not write: made under umask 000)
    (repo / ".env").write_text("SECRET=alice\n")
    on(a, repo, "-m", "first")
    on(a, repo, "remote", "add", "nas", str(tmp_path / "remote"))
    return repo, a, Path(a["XDG_CONFIG_HOME"]) / "git-snapshot"


@pytest.mark.slow
def test_remote_add_makes_the_config_folders_private_under_umask_000(
    tmp_path: Path, umask000: None
) -> None:
    _, _, conf = _added(tmp_path)
    for folder in (conf.parent, conf, conf / "keys"):
        assert _mode(folder) == 0o700, (folder, oct(_mode(folder)))


@pytest.mark.slow
@pytest.mark.parametrize("which", ["config folder", "its parent"])
def test_a_config_folder_others_can_change_is_refused_in_one_line(
    tmp_path: Path, which: str
) -> None:
    repo, a, conf = _added(tmp_path)
    open_one = conf if which == "config folder" else conf.parent
    open_one.chmod(0o777)
    for cmd in (["push", "nas"], ["remote", "list"]):
        ran = on(a, repo, *cmd, rc=1)
        assert len(ran.err_lines) == 1, ran.err
        assert str(open_one) in ran.err and "other users" in ran.err, ran.err
        assert f"chmod go-w {open_one}" in ran.err, ran.err
    assert not (tmp_path / "remote" / "packs").exists()  # nothing pushed
    open_one.chmod(0o700)
    on(a, repo, "push", "nas")


def test_the_crash_log_is_private(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def bug(args: cliparse.Args) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setitem(cli.COMMANDS, "list", bug)
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    old = os.umask(0o022)
    try:
        assert cli.main(["-C", str(repo), "list"]) == 1
    finally:
        os.umask(old)
    log = Path(capsys.readouterr().err.split("details in ")[1].split(")")[0])
    assert _mode(log) == 0o600 and _mode(log.parent) == 0o700
