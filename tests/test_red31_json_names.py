"""RED31: every --json output names a file that is not UTF-8 so that its bytes come back.

Before, a byte that is not UTF-8 was written as the text display shows (``x\\xff``): the
same JSON string as a file named ``x\\xff`` literally, so a script could not tell the two
apart and restored the wrong one. Now such a byte is JSON's ``\\udcff`` (os.fsdecode's
surrogate): ``os.fsencode(json.loads(...)[...]["path"])`` is the name, and the text is
still UTF-8 a strict reader takes."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from clihelpers import VENV_BIN

RAW = b"x\xff"  # not UTF-8
LITERAL = b"x\\xff"  # what the old output printed for RAW
LINK = b"l\xfd"  # a symlink, its target not UTF-8 either
TARGET = b"t\xfe"


def _json(cwd: Path, *args: str) -> Any:
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    res = subprocess.run(
        ["git", "snapshot", *args], cwd=cwd, env=env, capture_output=True, check=False
    )
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.decode("utf-8"))  # strict: the bytes must be UTF-8


def _names(items: list[dict[str, Any]]) -> set[bytes]:
    return {os.fsencode(x["path"]) for x in items}


def test_json_names_round_trip_and_stay_apart(repo: Path) -> None:
    root = os.fsencode(repo)
    with open(os.path.join(root, RAW), "wb") as f:
        f.write(b"raw\n")
    with open(os.path.join(root, LITERAL), "wb") as f:
        f.write(b"literal\n")
    os.symlink(TARGET, os.path.join(root, LINK))
    _json(repo, "create", "--json")

    shown = _json(repo, "show", "1", "--json")["entries"]
    assert {RAW, LITERAL, LINK} <= _names(shown)
    assert len({x["path"] for x in shown}) == len(shown)  # no two alike
    found = _json(repo, "find", "x*", "--json")
    assert _names(found) == {RAW, LITERAL}

    with open(os.path.join(root, RAW), "ab") as f:
        f.write(b"more\n")
    os.unlink(os.path.join(root, LINK))
    os.symlink(b"other", os.path.join(root, LINK))
    changed = _json(repo, "diff", "1", "--json")
    assert _names(changed) == {RAW, LINK}, changed
    link = next(c for c in changed if os.fsencode(c["path"]) == LINK)
    assert os.fsencode(link["old"]["content"]) == TARGET
    stat = _json(repo, "diff", "1", "--stat", "--json")
    assert _names(stat) == {RAW, LINK}

    versions = _json(repo, "log", os.fsdecode(LINK), "--json")
    assert os.fsencode(versions[0]["content"]) == TARGET

    done = _json(repo, "restore", "1", "--json")
    assert {os.fsencode(p) for p in done["updated"]} == {RAW, LINK}, done
    with open(os.path.join(root, RAW), "rb") as f:
        assert f.read() == b"raw\n"
    assert os.readlink(os.path.join(root, LINK)) == TARGET
