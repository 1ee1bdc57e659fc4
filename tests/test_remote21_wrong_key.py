"""Remote (session 21): ``remote add NAME URL --key FILE`` with the wrong key file said that
``~/.config/git-snapshot/keys/NAME.key`` (a file it had not written, and did not write) was the
wrong key, and to "put the right key file there". It now names the key file given and the
command to run again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import gs
from conftest import init_repo
from remotehelpers import machine
from remotehelpers import on


@pytest.fixture(autouse=True)
def _config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(Path(os.environ["HOME"]) / "config"))


def test_a_wrong_key_file_is_named_with_the_command_to_run_again(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "proj")
    (repo / "a.txt").write_text("a\n")
    gs(repo, "-m", "one")
    keys = Path(os.environ["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys"
    gs(repo, "remote", "add", "nas", f"file://{tmp_path}/nas")
    gs(repo, "remote", "add", "usb", f"file://{tmp_path}/usb")
    other = machine(tmp_path, "laptop2")
    wrong = str(keys / "usb.key")
    ran = on(
        other, tmp_path, "remote", "add", "nas", f"file://{tmp_path}/nas", "--key", wrong, rc=1
    )
    assert len(ran.err_lines) == 1, ran.err
    assert f"wrong key: {wrong} (key " in ran.err, ran.err
    assert f"git snapshot remote add nas file://{tmp_path}/nas --key FILE" in ran.err, ran.err
    assert str(Path(other["XDG_CONFIG_HOME"])) not in ran.err, ran.err
    assert not (Path(other["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "nas.key").exists()
