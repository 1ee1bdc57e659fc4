"""A remotes file that is valid JSON but not a remotes document (a list, ``"remotes"`` not an
object: hand-edited) ended ``remote list``, ``push`` and ``doctor`` in an internal error; it is
one line naming the file, as an unreadable one is (review RF3's aside)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import gs
from conftest import committed_repo


@pytest.mark.parametrize("text", ["[]", '{"remotes": []}', '{"remotes": "nas"}', "3"])
def test_a_remotes_file_of_another_shape_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    repo = committed_repo(tmp_path / "w")
    conf = tmp_path / "config" / "git-snapshot" / "remotes.json"
    conf.parent.mkdir(parents=True)
    conf.write_text(text)
    for args in (["remote", "list"], ["push"]):
        r = gs(repo, *args, rc=1)
        assert r.ours == [
            f"git-snapshot: cannot read the remotes file {conf}: not a remotes "
            "document; fix or remove it"
        ], r.err
    assert os.path.exists(conf)  # left as it was: the user's to fix
