"""review40 RD1: D1's refusal of a key pasted into ``remote add --key`` knew the key's
base64 alone only with its ``=`` padding; without it (a copy that stopped before the ``=``)
the line "cannot read the remote key file <the key>" printed the secret on stderr again."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from clihelpers import gs
from conftest import committed_repo


def test_a_key_without_its_padding_is_not_repeated(tmp_path: Path) -> None:
    r = committed_repo(tmp_path / "r")
    bare = base64.b64encode(os.urandom(32)).decode().rstrip("=")
    ran = gs(r, "remote", "add", "nas", f"file://{tmp_path}/nas", "--key", bare, rc=1)
    assert bare not in ran.err and bare not in ran.out, ran.err
    assert "--key takes a FILE" in ran.err, ran.err
