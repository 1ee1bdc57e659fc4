"""First contact: --help shows the man page, --version, bare 'git snapshot -m/--json', each
command's own usage on a bad option, typo suggestions, help for every argument, hidden
internal commands, shell completion through git's own bash completion, typed public API,
nothing heavy on the hook's import path, the crash log's place."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import gs
from clihelpers import run

from git_snapshot import __version__
from git_snapshot import cli
from git_snapshot import cliparse

ROOT = Path(__file__).resolve().parent.parent
GIT_BASH_COMPLETION = Path("/usr/share/bash-completion/completions/git")


def test_help_shows_the_man_page(repo: Path) -> None:
    """git turns 'git snapshot --help' into 'man git-snapshot'; MANPATH as the README says
    for a source checkout (an installed wheel puts the page in <venv>/share/man)."""
    env = {"MANPATH": f"{ROOT / 'man'}:", "MANPAGER": "cat", "PAGER": "cat", "GIT_PAGER": "cat"}
    ran = gs(repo, "--help", rc=0, **env)
    assert "GIT-SNAPSHOT(1)" in ran.out and "git snapshot restore" in ran.out
    assert "No manual entry" not in ran.err


def test_man_page_is_current() -> None:
    """man/man1/git-snapshot.1 is what tools/manpage.py makes of today's argparse tree."""
    run(ROOT, sys.executable, "tools/manpage.py", "--check")


@pytest.mark.slow
def test_wheel_installs_the_man_page_where_man_finds_it(tmp_path: Path) -> None:
    run(
        ROOT,
        *(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", ".", "-w", str(tmp_path)),
        timeout=900,  # a pip build: a CI run on a loaded machine took over 120 s
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.endswith(".data/data/share/man/man1/git-snapshot.1") for n in names), names


def test_version(repo: Path) -> None:
    assert gs(repo, "--version").out.strip() == f"git-snapshot {__version__}"


def test_bare_message_and_json_take_a_snapshot(repo: Path) -> None:
    gs(repo, "-m", "before the big refactor")
    data = json.loads(gs(repo, "--json").out)
    assert data["trigger"] == "manual" and data["id"] == 2
    listed = json.loads(gs(repo, "list", "--json").out)
    assert [s["message"] for s in listed] == ["before the big refactor", ""]
    gs(repo, "-C", str(repo), "-m", "with -C")


def test_bad_option_shows_that_commands_usage(repo: Path) -> None:
    ran = gs(repo, "list", "--jsn", rc=2)
    assert ran.err.startswith("usage: git snapshot list") and "--jsn" in ran.err


def test_typo_suggests_the_command(repo: Path) -> None:
    ran = gs(repo, "lsit", rc=2)
    assert "did you mean list?" in ran.err
    assert "hook" not in gs(repo, "hok", rc=2).err.split("invalid choice")[1]


def _walk(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.Action]]:
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                out += _walk(sub)
        else:
            out.append((parser.prog, action))
    return out


def test_every_argument_has_help() -> None:
    missing = [(prog, a.dest) for prog, a in _walk(cliparse.build_parser()) if not a.help]
    assert missing == []


def test_internal_commands_hidden_from_help(repo: Path) -> None:
    out = gs(repo, "-h").out
    assert "restore" in out and "completion" in out
    assert not re.search(r"^\s+(hook|__complete)\b", out, re.M)
    assert "hook" not in json.dumps(sorted(_commands(cliparse.public_parser())))


def _commands(parser: argparse.ArgumentParser) -> list[str]:
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return list(sub.choices)


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["-m", "note", "--json"],
        ["-C", "/x", "--no-pager", "list", "-n", "3", "--json"],
        ["--color", "diff", "1", "2", "--stat"],
        ["restore", "3", "a", "b", "--to", "/t"],
        ["remote", "add", "origin", "file:///r", "--key", "k"],
        ["watch", "status", "--json"],
        ["prune", "--keep-daily", "7", "--dry-run"],
        ["hook", "post-checkout", "a", "b", "1"],
        ["__complete", "paths", "4"],
        ["run", "--", "make", "-j2"],
    ],
)
def test_a_command_parses_as_with_the_whole_tree(argv: list[str]) -> None:
    """parse() builds only the named command's parser: the same answer as the whole tree's."""
    words = cliparse.with_command(argv)
    whole = cliparse.build_parser().parse_known_args(words)
    command, args = cliparse.parse(argv)
    assert command == whole[0].command
    assert vars(args._ns) == vars(whole[0]) and not whole[1]
    only = cliparse.build_parser(only=command)
    assert _commands(only) == [command]


def test_readme_names_every_command() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [
        c
        for c in _commands(cliparse.public_parser())
        if not re.search(rf"(git snapshot |`){c}\b", readme)
    ]
    assert missing == []


def _complete(cwd: Path, line: str, script: Path, through_git: bool) -> list[str]:
    """What bash completes for *line*, run for real (COMP_WORDS/COMP_CWORD as bash sets them),
    through git's own completion when *through_git*."""
    source = f"source {GIT_BASH_COMPLETION}; " if through_git else ""
    call = "__git_func_wrap __git_main" if through_git else "_shtab_git_snapshot"
    code = (
        f'{source}source {script}; COMP_LINE="$1"; read -ra COMP_WORDS <<< "$COMP_LINE"; '
        '[[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=(""); '
        "COMP_CWORD=$((${#COMP_WORDS[@]}-1)); COMP_POINT=${#COMP_LINE}; "
        f'{call}; printf "%s\\n" "${{COMPREPLY[@]}}"'
    )
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    ran = run(cwd, "bash", "-c", code, "_", line, env=env)
    return [w.strip() for w in ran.out.splitlines() if w.strip()]


@pytest.mark.parametrize("through_git", [False, True], ids=["git-snapshot", "git snapshot"])
def test_bash_completion_for_real(repo: Path, tmp_path: Path, through_git: bool) -> None:
    if through_git and not GIT_BASH_COMPLETION.exists():
        pytest.skip("git's bash completion is not installed")
    (repo / "d").mkdir()
    (repo / "d" / "b.txt").write_text("b")
    gs(repo)
    gs(repo, "-m", "two")
    script = tmp_path / "gs.bash"
    script.write_text(gs(repo, "completion", "bash").out)
    words = "git snapshot" if through_git else "git-snapshot"
    assert _complete(repo, f"{words} li", script, through_git) == ["list"]
    assert _complete(repo, f"{words} list --j", script, through_git) == ["--json"]
    assert _complete(repo, f"{words} restore ", script, through_git) == ["latest", "1", "2"]
    assert _complete(repo, f"{words} restore 1 d/", script, through_git) == ["d/b.txt"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_name_commands_and_ids(repo: Path, shell: str) -> None:
    out = gs(repo, "completion", shell).out
    assert "restore" in out and "dry-run" in out and "__complete ids" in out
    assert "install" in out and "the git hook that fired" not in out  # hook's help: hidden


def test_complete_helper_lists_ids_and_paths(repo: Path) -> None:
    gs(repo)
    assert gs(repo, "__complete", "ids").out.split() == ["latest", "1"]
    assert "README" in gs(repo, "__complete", "paths", "1").out.split()
    assert gs(repo, "__complete", "paths", "99").out == ""  # never an error


def test_public_api_keeps_its_types(tmp_path: Path) -> None:
    """mypy --strict rejects a wrong call of create_backup (the lazy loader hid the types)."""
    bad = tmp_path / "use_api.py"
    bad.write_text("from git_snapshot import create_backup\ncreate_backup(1, 2, 3, 4, 5, 6)\n")
    good = tmp_path / "good_api.py"
    good.write_text(
        "from git_snapshot import BackupInfo, create_backup\n"
        "info: BackupInfo = create_backup('n', '.')\n"
    )
    mypy = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--no-error-summary"]
    res = subprocess.run([*mypy, str(bad)], capture_output=True, text=True, check=False)
    assert res.returncode == 1 and "create_backup" in res.stdout, res.stdout
    res = subprocess.run([*mypy, str(good)], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout


def test_nothing_heavy_on_the_hook_import_path() -> None:
    """The hook runs at every checkout: cli and hooks import none of the libraries that only
    people at a terminal need (progress, completion, man page) nor pathspec (only when
    snapshot.exclude is set)."""
    code = (
        "import sys, git_snapshot.cli, git_snapshot.hooks; "
        "print(' '.join(m for m in ('tqdm', 'shtab', 'pathspec', 'argparse_manpage', "
        "'difflib', 'git_snapshot.api') if m in sys.modules))"
    )
    assert run(ROOT, sys.executable, "-c", code).out.strip() == ""
    code = "import sys, git_snapshot.cli; print(len([m for m in sys.modules if 'store' in m]))"
    assert run(ROOT, sys.executable, "-c", code).out.strip() == "0"


def test_crash_log_under_user_log_dir(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug is one line naming the log, which lies under platformdirs' user log dir (in the
    test HOME), not in ~/ itself."""

    def bug(args: cliparse.Args) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setitem(cli.COMMANDS, "list", bug)
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    assert cli.main(["-C", str(repo), "list"]) == 1
    err = capsys.readouterr().err
    (line,) = err.splitlines()
    log = Path(line.split("details in ")[1].split(")")[0])
    assert log.is_relative_to(Path(os.environ["HOME"]) / ".local" / "state")
    assert "RuntimeError: a bug" in log.read_text()
    assert not (Path(os.environ["HOME"]) / ".git-snapshot-crash.log").exists()
