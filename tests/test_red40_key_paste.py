"""RED40 D1 (finding 4): ``remote add`` prints the key once, as a gsk1:... line to keep, and the
next step as ``--key FILE``; pasting that line into --key printed it back on stderr (where
scrollback and CI logs keep it) with "put back your copy of it". Now a --key that is a key,
not a file, is refused in one line that never repeats it and says how to write the file; the
key itself is not accepted on the command line (shell history and every user's ps would hold
it). A key file that is there still works."""

from __future__ import annotations

import re
from pathlib import Path

from clihelpers import gs
from conftest import committed_repo


def _added(tmp_path: Path) -> tuple[Path, str, str]:
    r = committed_repo(tmp_path / "r")
    gs(r, "-m", "s")
    url = f"file://{tmp_path}/nas"
    out = gs(r, "remote", "add", "nas", url).out
    (key,) = re.findall(r"gsk1:[A-Za-z0-9+/=]+", out)
    gs(r, "push", "nas")
    gs(r, "remote", "remove", "nas")
    return r, url, key


def test_a_pasted_key_is_refused_without_being_repeated(tmp_path: Path) -> None:
    r, url, key = _added(tmp_path)
    bare = key.removeprefix("gsk1:")
    for word in (key, bare, f" {key}\n"):
        ran = gs(r, "remote", "add", "nas2", url, "--key", word, rc=1)
        assert bare not in ran.err and bare not in ran.out, ran.err
        assert len(ran.err_lines) == 1, ran.err
        assert "--key takes a FILE" in ran.err, ran.err
        assert "put back your copy" not in ran.err, ran.err
    assert "nas2" not in gs(r, "remote", "list").out


def test_the_key_written_into_a_file_works(tmp_path: Path) -> None:
    r, url, key = _added(tmp_path)
    kf = tmp_path / "nas.key"
    kf.write_text(key + "\n")
    kf.chmod(0o600)
    out = gs(r, "remote", "add", "nas2", url, "--key", str(kf)).out
    assert "holding snapshots already" in out, out
    assert key not in out


def test_the_first_add_says_what_file_to_pass(tmp_path: Path) -> None:
    r = committed_repo(tmp_path / "r")
    out = gs(r, "remote", "add", "nas", f"file://{tmp_path}/nas").out
    last = out.splitlines()[-1]
    assert "--key FILE" in last and "gsk1:" in last, out
