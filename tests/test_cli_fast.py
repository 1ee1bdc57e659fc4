"""`git snapshot --version` and the top level's `-h` without every command's parser: the
same output and exit status as the whole argparse tree gives, for less."""

from __future__ import annotations

import argparse
import contextlib
import io
import subprocess
import sys

import pytest

from git_snapshot import cliparse
from git_snapshot import hookmain


def _argparse_says(argv: list[str]) -> tuple[int | str | None, str]:
    """What the whole tree does with *argv*: (exit status or None when it parses, stdout)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        try:
            cliparse.build_parser().parse_known_args(cliparse.with_command(argv))
        except SystemExit as exc:
            return exc.code, out.getvalue()
    return None, out.getvalue()


@pytest.mark.parametrize(
    "argv",
    [
        ["--version"],
        ["-C", "/tmp", "--version"],
        ["-C/tmp", "-P", "--version"],
        ["--color", "--version"],
        ["--color=never", "--no-color", "--no-pager", "--version"],
        ["--version", "list"],
        ["--version", "--bogus"],
        ["--color=bad", "--version"],  # argparse stops at the bad colour first
        ["-C", "--version"],  # -C takes it as its path
        ["--bogus", "--version"],
        ["list", "--version"],
        ["-h", "--version"],
        [],
    ],
)
def test_version_call_is_what_argparse_does(argv: list[str]) -> None:
    status, out = _argparse_says(argv)
    fast = hookmain.is_version_call(argv)
    assert fast == (status == 0 and out.startswith("git-snapshot ")), (status, out)
    if fast:
        code = (
            "import sys; sys.argv = ['git-snapshot', *sys.argv[1:]]\n"
            "from git_snapshot.hookmain import main\n"
            "status = main()\n"
            "assert 'argparse' not in sys.modules and 'git_snapshot.cli' not in sys.modules\n"
            "sys.exit(status)\n"
        )
        ran = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True)
        assert (ran.returncode, ran.stdout, ran.stderr) == (0, out, "")


def test_listing_is_the_whole_trees_help() -> None:
    """-h lists every command with its help line, as the whole tree does (hidden ones not)."""
    full = cliparse.build_parser().format_help()
    assert cliparse.build_parser(only=cliparse.LISTING).format_help() == full
    assert "create" in full and "__complete" not in full


@pytest.mark.parametrize("argv", [["-h"], ["--help"], ["-C", ".", "-h"], ["-h", "list"]])
def test_help_through_parse(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    status, out = _argparse_says(argv)
    with pytest.raises(SystemExit) as got:
        cliparse.parse(argv)
    assert (got.value.code, capsys.readouterr().out) == (status, out)
    assert status == 0 and "COMMAND" in out


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


@pytest.mark.parametrize("columns", ["57", "", "0", "x"])
def test_formatter_width_is_shutils(columns: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """cliparse.Formatter finds the width as argparse's own (through shutil) does, so every help
    text is the same; and a command's parse imports no shutil."""
    monkeypatch.setenv("COLUMNS", columns)
    ours = cliparse.build_parser(only="list")
    theirs = cliparse.build_parser(only="list")
    sub = [_commands(p)["list"] for p in (ours, theirs)]
    theirs.formatter_class = sub[1].formatter_class = argparse.HelpFormatter

    def glued(text: str) -> str:  # ours writes an optional value glued (RED40 D8)
        return text.replace("--color [WHEN]", "--color[=WHEN]")

    assert ours.format_help() == glued(theirs.format_help())
    assert sub[0].format_help() == glued(sub[1].format_help())


def test_a_commands_parse_imports_no_shutil() -> None:
    code = (
        "import sys\n"
        "from git_snapshot import cliparse\n"
        "cliparse.parse(['list', '--json'])\n"
        "assert 'shutil' not in sys.modules, 'shutil'\n"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr


@pytest.mark.parametrize(
    ("argv", "words", "version"),
    [
        ([], ["create"], True),
        (["--color", "list"], ["--color=always", "list"], False),  # bare --color: always
        (["-C", "--color"], ["-C", "--color", "create"], True),  # -C takes it as its path
        (["-Cx", "-P", "--color=bad", "-h"], ["-Cx", "-P", "--color=bad", "-h"], False),
        (["--no-pager", "-m", "msg"], ["--no-pager", "create", "-m", "msg"], False),
        (["--bogus"], ["create", "--bogus"], False),
        (["-C"], ["-C", "create"], False),  # -C would take --version as its path
    ],
)
def test_command_line_and_version_read_the_same_global_options(
    argv: list[str], words: list[str], version: bool
) -> None:
    """One scan of the global options (hookmain.past_globals) serves the parse, which puts
    ``create`` where no command is named (a bare --color made --color=always), and the
    --version fast path, which takes only the colours git knows."""
    assert cliparse.with_command(argv) == words
    assert hookmain.is_version_call([*argv, "--version"]) == version
