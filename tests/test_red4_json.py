"""Red team (session 10): every --json output is valid JSON, UTF-8 text, whatever the file
names. ``run --json`` and ``losses --json`` wrote a lost file's name that is not UTF-8 as its
raw bytes (the report keeps names as os.fsdecode gives them, for undo), so their output was no
JSON at all for a strict reader (json.loads of the bytes failed)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from clihelpers import VENV_BIN
from clihelpers import git

NAMES = [b"bad\xff\xfe.env", b"new\nline.env", b"-dash.env", b"esc\x1b[31m.env"]


def _json(cwd: Path, *args: str) -> object:
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    res = subprocess.run(
        ["git", "snapshot", *args], cwd=cwd, env=env, capture_output=True, check=False
    )
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.decode("utf-8"))  # strict: the bytes must be UTF-8


def test_json_outputs_are_utf8_with_hostile_names(repo: Path) -> None:
    (repo / ".gitignore").write_text("*.env\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-q", "-m", "ignore")
    for name in NAMES:
        (repo / os.fsdecode(name)).write_bytes(b"data of " + name)
    _json(repo, "create", "--json")
    run = _json(repo, "run", "--json", "--", "git", "clean", "-fdxq")
    assert isinstance(run, dict) and run["losses"], run
    lost = {os.fsencode(x["path"]) for x in run["losses"]["lost"]}
    assert set(NAMES) <= lost, lost  # each name's bytes, exactly (RED31: \\udcff, not \\xff)
    assert isinstance(_json(repo, "losses", "--json"), list)
    for args in (["show", "1"], ["diff", "1"], ["list"], ["find", "*.env"], ["stats"]):
        _json(repo, *args, "--json")
    _json(repo, "restore", "1", "--json")
    assert (repo / os.fsdecode(NAMES[0])).read_bytes() == b"data of " + NAMES[0]
    # undo still finds the real name (the log keeps it exact)
    git(repo, "clean", "-fdxq")
    _json(repo, "restore", "latest~0", "--dry-run", "--json")
