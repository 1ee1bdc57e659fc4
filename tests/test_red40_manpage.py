"""RED40 D9.8: the man page was dated with a placeholder (2026-01-01), its ENVIRONMENT named
neither GIT_SNAPSHOT_WATCH nor GIT_SNAPSHOT_ALLOW_EPHEMERAL (README's table names both),
`export` left out `.tgz` (which it takes) and the ID of show, restore and export said only
"or latest" (latest~N and @{DATE} work there too). The page is dated the day its text last
changed (tools/manpage.py keeps the date of an unchanged page, so it never changes with the
day it is built).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "man" / "man1" / "git-snapshot.1"


def _manpage() -> ModuleType:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import manpage
    finally:
        sys.path.remove(str(ROOT / "tools"))
    return manpage


def test_the_page_is_dated_the_day_its_text_last_changed() -> None:
    page = PAGE.read_text(encoding="utf-8")
    (date,) = re.findall(r'^\.TH GIT-SNAPSHOT "1" "(\d{4}\\-\d\d\\-\d\d)"', page, re.MULTILINE)
    assert date != r"2026\-01\-01", "the placeholder date"
    manpage = _manpage()
    assert manpage.render() == page  # regenerated unchanged: the same date
    other = manpage.render("1999-12-31")
    assert '"1999\\-12\\-31"' in other and other.replace("1999\\-12\\-31", date) == page


def test_the_environment_names_every_variable_readme_does() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("Environment:", 1)[1].split("git config", 1)[0]
    names = re.findall(r"^\| `(GIT_SNAPSHOT_\w+)", table, re.MULTILINE)
    assert "GIT_SNAPSHOT_WATCH" in names and "GIT_SNAPSHOT_ALLOW_EPHEMERAL" in names, names
    environment = PAGE.read_text(encoding="utf-8").split(".SH ENVIRONMENT", 1)[1]
    environment = environment.split(".SH ", 1)[0]
    for name in names:
        assert f".B {name}" in environment, name


def test_ids_and_formats_say_what_works() -> None:
    import argparse

    from git_snapshot.cliparse import build_parser

    for command in ("show", "restore", "export"):
        actions = build_parser(only=command)._actions
        (sub,) = [a for a in actions if isinstance(a, argparse._SubParsersAction)]
        said = " ".join(sub.choices[command].format_help().split())
        assert "latest~N or @{DATE}" in said, (command, said)
    page = PAGE.read_text(encoding="utf-8")
    assert "write a snapshot as .tar, .tar.gz, .tgz or .tar.zst" in page
