"""Write man/man1/git-snapshot.1 from the argparse tree (argparse-manpage), or check it is current.

    python tools/manpage.py          # regenerate after changing the command line
    python tools/manpage.py --check  # exit 1 if the page is stale (the tests run this)

The page is a data file of the wheel (share/man/man1), so that ``man git-snapshot`` (and
``git snapshot --help``, which git turns into it) finds it next to the venv's bin/.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import sys
from pathlib import Path
from unittest import mock

from argparse_manpage.manpage import Manpage

from git_snapshot import __version__
from git_snapshot.cliparse import public_parser

# argparse-manpage's option whose value may be left out: \fB\-\-color\fR \fI\,[WHEN]\/\fR
GLUE = re.compile(r"(\\fB\\-\\-[\w\\-]+\\fR) \\fI\\,\[(\w+)\]\\/\\fR")
COLUMNS = 80
PAGE = Path(__file__).resolve().parent.parent / "man" / "man1" / "git-snapshot.1"
# the page's date is the day its text last changed (RED40 D9: a fixed placeholder before):
# regenerating an unchanged page keeps the date it has, so it never changes with the day
# it is built, and --check compares with that date
DATE_AT = re.compile(r'^\.TH GIT-SNAPSHOT "1" "([^"]+)"', re.MULTILINE)

SEE_ALSO = r"""
.SH ENVIRONMENT
.TP
.B GIT_SNAPSHOT_STORE
the store directory (default: the user data directory, ~/.local/share/git-snapshot)
.TP
.B GIT_SNAPSHOT_SKIP=1
makes every hook do nothing
.TP
.B GIT_SNAPSHOT_WATCH=0
hooks and \fBinstall\fR never start the watcher
.TP
.B GIT_SNAPSHOT_ALLOW_EPHEMERAL=1
allow a store on tmpfs or under /tmp (tests and benchmarks only: such a store is lost on
reboot, and is refused otherwise)
.TP
.B NO_COLOR
no colour in the output
.SH SNAPSHOT IDS
The number shown by \fBgit snapshot list\fR; \fBlatest\fR; \fBlatest~N\fR (N before it);
\fB@{DATE}\fR in git's approxidate syntax (\fB@{1.hour.ago}\fR): the newest snapshot at or
before that time.
.SH SEE ALSO
\fBgit\fR(1), \fBgithooks\fR(5); README.md of git-snapshot; shell completion:
\fBgit snapshot completion bash|zsh|fish\fR
"""


def render(date: str | None = None) -> str:
    """The page, dated *date* (default: the date of the page there is, else today)."""
    # the usage blocks are wrapped as -h wraps them, at the terminal's width: the page's at
    # shutil's fallback, 80, whatever terminal it is made or checked in
    with mock.patch.dict(os.environ, {"COLUMNS": str(COLUMNS)}):
        page = Manpage(
            public_parser(),
            _data={
                "project_name": "git-snapshot",
                "version": __version__,
                "date": date or _date_of(_current()) or _today(),
                "manual_title": "Git Manual",
                "description": "snapshots of the whole git worktree, taken before git can lose it",
            },
        )
        text = str(page).replace('.TH GIT SNAPSHOT "1"', '.TH GIT-SNAPSHOT "1"', 1)
    # an optional value glued, as -h writes it (cliparse.Formatter): --color[=WHEN]
    text = GLUE.sub(r"\1[=\\fI\\,\2\\/\\fR]", text)
    return text.rstrip("\n") + "\n" + SEE_ALSO.lstrip("\n")


def _current() -> str:
    return PAGE.read_text(encoding="utf-8") if PAGE.exists() else ""


def _date_of(page: str) -> str | None:
    """The date of *page*, as written in its .TH line (unescaped)."""
    found = DATE_AT.search(page)
    return found.group(1).replace("\\-", "-") if found else None


def _today() -> str:
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="fail if the page is not current")
    check = p.parse_args(argv).check
    current = _current()
    text = render()
    if check:
        if current != text:
            print(f"{PAGE} is stale: run python tools/manpage.py", file=sys.stderr)
            return 1
        return 0
    if text != current:  # a new text: dated today
        text = render(_today())
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
