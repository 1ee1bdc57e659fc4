"""Red team (session 10): snapshot IDs are the numbers 'list' shows, written with the digits
0-9. Python's \\d and int() take every script's digits, so an Arabic-Indic one (U+0661) or a
fullwidth one (U+FF11) named snapshot 1 (``forget`` of it forgot snapshot 1), and a number of
5,000 digits was an internal error. Each is now one clear line, exit 1, and touches nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import gs

from git_snapshot import snapids
from git_snapshot.errors import UserError

ARABIC_ONE, FULLWIDTH_ONE = "\u0661", "\uff11"


@pytest.mark.parametrize(
    "text",
    [ARABIC_ONE, FULLWIDTH_ONE, "latest~" + ARABIC_ONE, "latest~" + FULLWIDTH_ONE, "\u0663\u0664"],
)
def test_digits_of_other_scripts_are_refused(text: str) -> None:
    with pytest.raises(UserError, match="digits 0-9"):
        snapids.parse(text)
    assert not snapids.looks_like_id(text)  # diff takes such a word for a path


def test_numbers_too_long_for_any_snapshot_are_said_to_be_none() -> None:
    with pytest.raises(UserError, match="no snapshot"):
        snapids.parse("1" * 5000)
    with pytest.raises(UserError, match="back further"):
        snapids.parse("latest~" + "1" * 5000)
    assert snapids.parse("latest~12") == snapids.Ref(back=12)
    assert snapids.parse(" 7 ") == snapids.Ref(number=7)


def test_the_cli_refuses_them_in_one_line_and_forgets_nothing(repo: Path) -> None:
    gs(repo, "create")
    for args, rc in (
        (["forget", FULLWIDTH_ONE], 2),  # in no ID's form: a usage error (RED32)
        (["show", ARABIC_ONE], 2),
        (["restore", ARABIC_ONE, "README"], 1),  # taken for a path: restore names the form
        (["show", "1" * 5000], 1),  # a number, of no snapshot
    ):
        ran = gs(repo, *args, rc=rc)
        assert len(ran.err_lines) == 1, ran.err
    assert "manual" in gs(repo, "list")  # snapshot 1 is still there
    ran = gs(repo, "prune", "--keep-within", "\u00b2d", "--dry-run", rc=2)  # a superscript 2
    assert len(ran.err_lines) == 1 and "bad duration" in ran.err, ran.err


def test_a_superscript_digit_in_the_retention_config_is_a_clear_line(repo: Path) -> None:
    """store/retention.parse_duration took '\u00b2' for a digit (isdigit) and int() refused
    it: an internal error wherever snapshot.keepWithin was read."""
    from clihelpers import git

    git(repo, "config", "snapshot.keepWithin", "\u00b2d")
    ran = gs(repo, "create", rc=None)
    assert "internal error" not in ran.err and "Traceback" not in ran.err, ran.err
