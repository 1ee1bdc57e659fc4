"""review40 RD1: the ``remote add`` commands D1's key messages print (after a pasted key, and
"On another machine") wrote the URL bare: an S3 URL's ``?endpoint=...&region=...`` pasted
into a shell ran in the background, cut at the ``&`` (zsh refused the ``?`` as a glob with no
match), and a URL holding a space split in two. The URL is one shell word now."""

from __future__ import annotations

import shlex
from pathlib import Path

from clihelpers import gs
from conftest import committed_repo

KEY = "gsk1:" + "A" * 43 + "="


def _command(url: str, key: str) -> str:
    return f"git snapshot remote add nas {shlex.quote(url)} --key {key}"


def test_a_pasted_key_refusal_gives_the_url_as_one_word(tmp_path: Path) -> None:
    r = committed_repo(tmp_path / "r")
    url = "s3://bucket/laptop?endpoint=http://127.0.0.1:9&region=eu"
    ran = gs(r, "remote", "add", "nas", url, "--key", KEY, rc=1)
    (line,) = ran.ours
    assert line.endswith(_command(url, "nas.key")), line


def test_on_another_machine_gives_the_url_as_one_word(tmp_path: Path) -> None:
    r = committed_repo(tmp_path / "r")
    url = f"file://{tmp_path}/my nas"
    last = gs(r, "remote", "add", "nas", url).out.splitlines()[-1]
    assert last.endswith(_command(url, "FILE")), last
