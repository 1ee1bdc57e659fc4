"""RED34 B4 (finding 4): with one remote pack damaged, ``restore --remote`` named the first
object read from it rightly ("cannot be read from the remote: ... fails its authentication
check") and every other object of that pack as "[Errno 2] No such file or directory:
<the cache's copy of the pack>": the batch read opened the cache's pack file, which the failed
download never put there. Every object of such a pack now names the remote's cause, and the
pack is downloaded once per command, not once per object."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import committed_repo
from remotehelpers import machine
from remotehelpers import on

pytestmark = pytest.mark.slow


def test_every_object_of_a_damaged_remote_pack_names_the_remote_cause(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "w")
    a = machine(tmp_path, "a")
    remote = tmp_path / "remote"
    on(a, repo, "remote", "add", "r", f"file://{remote}")
    (repo / "d1").mkdir()
    for i in range(5):
        (repo / "d1" / f"f{i}").write_bytes(os.urandom(20_000))
    on(a, repo, "-m", "s1")
    on(a, repo, "push", "r")
    (first,) = os.listdir(remote / "packs")
    (repo / "d2").mkdir()
    for i in range(5):
        (repo / "d2" / f"f{i}").write_bytes(os.urandom(20_000))
    on(a, repo, "-m", "s2")
    on(a, repo, "push", "r")
    pack = remote / "packs" / first
    data = bytearray(pack.read_bytes())
    data[500] ^= 0xFF
    pack.write_bytes(bytes(data))
    key = str(Path(a["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "r.key")
    b = machine(tmp_path, "b")
    on(b, tmp_path, "remote", "add", "r", f"file://{remote}", "--key", key)
    for n in ("1", "2"):
        r = on(
            b,
            tmp_path,
            "restore",
            "--remote",
            "r",
            "--repo",
            "w",
            n,
            "--to",
            str(tmp_path / n),
            rc=1,
        )
        text = r.out + r.err
        assert "No such file" not in text and "cache" not in text, text
        lines = [x for x in text.splitlines() if first in x]
        assert lines and all("fails its authentication check" in x for x in lines), text
    out = tmp_path / "2"
    assert (out / "d2" / "f0").read_bytes() == (repo / "d2" / "f0").read_bytes()
