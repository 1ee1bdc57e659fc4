"""RED34 B1: a remote whose small ``config`` object was damaged or lost (a sync tool, a partial
copy of the folder) locked everyone out although every pack and document was intact and the
user held the right key: "its config object is damaged; it cannot be used" with no way on, or
"holds no git-snapshot data (no config object); remove it and add it again", which was false,
and following it (or a second machine's ``remote add`` without ``--key``) wrote a config with a
NEW key over the old data, orphaning every snapshot on it.

Now the config only says which key seals the data; when it is missing or damaged, the key is
checked against the remote's own sealed documents instead (they open only under the key they
were sealed with), the config is written again, and the remote reads as before. A remote that
holds data is never taken for a new one: ``remote add`` without ``--key`` refuses it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import committed_repo
from remotehelpers import machine
from remotehelpers import on

pytestmark = pytest.mark.slow


def _pushed(tmp_path: Path) -> tuple[Path, dict[str, str], Path, Path]:
    """A repository snapshotted and pushed from machine a: (repo, a, remote dir, a's key)."""
    repo = committed_repo(tmp_path / "w")
    a = machine(tmp_path, "a")
    (repo / "precious.txt").write_text("precious\n")
    on(a, repo, "-m", "first")
    on(a, repo, "remote", "add", "r", f"file://{tmp_path}/remote")
    on(a, repo, "push", "r")
    key = Path(a["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "r.key"
    return repo, a, tmp_path / "remote", key


def _restores(env: dict[str, str], repo: Path, dest: Path) -> None:
    on(env, repo, "restore", "--remote", "r", "--repo", "w", "1", "--to", str(dest))
    assert (dest / "precious.txt").read_text() == "precious\n"


def _config_sound(remote: Path, key_fp: str | None = None) -> dict[str, object]:
    doc: dict[str, object] = json.loads((remote / "config").read_text())
    assert set(doc) >= {"format", "chunk", "key", "check"}, doc
    if key_fp is not None:
        assert doc["key"] == key_fp, doc
    return doc


@pytest.mark.parametrize("damage", ["garbled", "gone", "check altered"])
def test_the_key_holder_reads_the_remote_and_its_config_is_written_again(
    tmp_path: Path, damage: str
) -> None:
    repo, a, remote, _key = _pushed(tmp_path)
    before = json.loads((remote / "config").read_text())
    if damage == "garbled":
        (remote / "config").write_text('{"format": 1')  # a cut-off write
    elif damage == "gone":
        (remote / "config").unlink()
    else:  # parses, names this key, but its sealed check value does not open
        (remote / "config").write_text(json.dumps({**before, "check": "00" * 40}))
    shutil.rmtree(a["GIT_SNAPSHOT_STORE"])  # the laptop's store is gone: the remote is all
    os.mkdir(a["GIT_SNAPSHOT_STORE"])
    r = on(a, repo, "list", "--remote", "r", "--all")
    assert "w" in r.out and "first" in r.out, r.out
    assert "config object" in r.err and "written again" in r.err, r.err
    _config_sound(remote, str(before["key"]))
    r = on(a, repo, "verify", "--remote", "r", "--read-data")
    assert r.err == "", r.err
    _restores(a, repo, tmp_path / "out")


def test_push_writes_a_lost_config_again(tmp_path: Path) -> None:
    repo, a, remote, _key = _pushed(tmp_path)
    (remote / "config").unlink()
    (repo / "more.txt").write_text("more\n")
    on(a, repo, "-m", "second")
    r = on(a, repo, "push", "r")
    assert "pushed 1 snapshot(s)" in r.out, r.out
    assert "written again" in r.err, r.err
    _config_sound(remote)


def test_remote_add_without_key_never_makes_a_new_key_over_data(tmp_path: Path) -> None:
    repo, a, remote, key = _pushed(tmp_path)
    (remote / "config").unlink()
    b = machine(tmp_path, "b")
    url = f"file://{remote}"
    r = on(b, repo, "remote", "add", "r", url, rc=1)
    assert "new" not in r.out and "holds no git-snapshot data" not in r.err, (r.out, r.err)
    assert f"git snapshot remote add r {url} --key FILE" in r.err, r.err
    assert not (remote / "config").exists()  # nothing written over the data
    assert not (Path(b["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "r.key").exists()
    # the machine that made it still reads it with its key
    _restores(a, repo, tmp_path / "out-a")
    # and b joins with that key, as the refusal said
    (remote / "config").unlink()
    r = on(b, repo, "remote", "add", "r", url, "--key", str(key))
    assert "holding snapshots already" in r.out, r.out
    _config_sound(remote)
    _restores(b, repo, tmp_path / "out-b")


def test_remote_add_with_the_right_key_mends_a_garbled_config(tmp_path: Path) -> None:
    repo, _a, remote, key = _pushed(tmp_path)
    (remote / "config").write_text("\x00garbage")
    b = machine(tmp_path, "b")
    r = on(b, repo, "remote", "add", "r", f"file://{remote}", "--key", str(key))
    assert "holding snapshots already" in r.out, r.out
    assert "written again" in r.err, r.err
    _config_sound(remote)
    _restores(b, repo, tmp_path / "out")


def test_a_wrong_key_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    repo, a, remote, _key = _pushed(tmp_path)
    on(a, repo, "remote", "add", "other", f"file://{tmp_path}/other")
    wrong = Path(a["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "other.key"
    (remote / "config").unlink()
    b = machine(tmp_path, "b")
    r = on(b, repo, "remote", "add", "r", f"file://{remote}", "--key", str(wrong), rc=1)
    assert f"wrong key: {wrong}" in r.err, r.err
    assert not (remote / "config").exists()
    _restores(a, repo, tmp_path / "out")


def test_a_remote_holding_nothing_is_said_to_hold_nothing(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "w")
    a = machine(tmp_path, "a")
    on(a, repo, "remote", "add", "r", f"file://{tmp_path}/remote")
    (tmp_path / "remote" / "config").unlink()
    r = on(a, repo, "list", "--remote", "r", "--all", rc=1)
    assert "holds no git-snapshot data" in r.err, r.err
    assert not (tmp_path / "remote" / "config").exists()  # (a disk not mounted: not taken)
