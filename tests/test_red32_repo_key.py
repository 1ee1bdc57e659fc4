"""RED32 B (a note): ``list --all --json`` gives each snapshot's ``repo`` as the repository's key
in the store (``/path/.git#id``); a script passing that value to ``--repo`` was told "no
repository at /path/.git#id has snapshots". The key names its repository, deleted or not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from clihelpers import git
from clihelpers import gs


def test_the_repo_value_list_json_gives_names_its_repository(tmp_path: Path) -> None:
    place = tmp_path / "proj"
    place.mkdir()
    git(place, "init", "-q")
    (place / "f").write_text("old\n")
    gs(place)  # the first repository's 1
    shutil.rmtree(place)
    place.mkdir()
    git(place, "init", "-q")  # a new repository at the same path: a new history
    (place / "f").write_text("new\n")
    gs(place)
    snaps = json.loads(gs(tmp_path, "list", "--all", "--json").out)
    keys = list(dict.fromkeys(s["repo"] for s in snaps))
    assert len(keys) == 2, snaps
    old, new = keys
    assert gs(tmp_path, "cat", "--repo", old, "1", "f").out == "old\n"
    assert gs(tmp_path, "cat", "--repo", new, "1", "f").out == "new\n"
    listed = json.loads(gs(tmp_path, "list", "--repo", old, "--json").out)
    assert [s["repo"] for s in listed] == [old]
    out = tmp_path / "out"
    gs(tmp_path, "restore", "--repo", old, "1", "--to", str(out))
    assert (out / "f").read_text() == "old\n"
