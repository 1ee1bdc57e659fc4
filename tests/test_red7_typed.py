"""Red team (session 12): a path or name the user typed comes back in an error line on one
line with no control character: ``cat``, ``log``, ``--repo``, ``watch add`` and argparse's own
errors printed it raw (a newline split the line; an escape sequence reached the terminal)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import git
from clihelpers import gs

HOSTILE = "x\x1b[2J\x1b]0;owned\x07\ny"


def _one_clean_line(err: str) -> None:
    lines = err.splitlines()
    assert len(lines) == 1, repr(err)
    assert not any(c < " " or "\x7f" <= c < "\xa0" for c in lines[0]), repr(err)


@pytest.mark.parametrize(
    "argv",
    [
        ("cat", "1", HOSTILE),
        ("cat", "1", "../" + HOSTILE),
        ("log", HOSTILE),
        ("log", "../" + HOSTILE),
        ("log", "--repo", HOSTILE, "a"),
        ("show", "--repo", "/no/" + HOSTILE, "1"),
        ("restore", "1", "--repo", "/no/" + HOSTILE, "a"),
        ("watch", "add", HOSTILE),
        ("-C", HOSTILE, "list"),
    ],
)
def test_a_typed_path_in_an_error_line_is_shown_escaped(repo: Path, argv: tuple[str, ...]) -> None:
    gs(repo, "create")
    ran = gs(repo, *argv, rc=None, GIT_SNAPSHOT_WATCH="0")
    assert ran.rc != 0
    _one_clean_line(ran.err)
    # a path printed as its shell word (RED34: "$(printf 'x\\033...')"), other text escaped
    assert "x\\x1b[2J" in ran.err or "x\\033[2J" in ran.err, ran.err


def test_argparse_errors_show_an_unknown_argument_escaped(repo: Path) -> None:
    ran = gs(repo, "list", "--all", HOSTILE, rc=2)
    lines = [ln for ln in ran.err.splitlines() if "error:" in ln]
    assert len(lines) == 1 and "\x1b" not in ran.err, repr(ran.err)
    assert "x\\x1b[2J" in lines[0] and lines[0].endswith("\\ny"), repr(ran.err)


def test_a_reused_worktrees_restore_hint_works_for_a_label_ending_in_a_newline(
    tmp_path: Path,
) -> None:
    """A linked worktree's folder used by two repositories, the newest named 'a<newline>',
    then removed: `watch status` printed `restore --repo "$(printf 'a\\012/')"`, which
    --repo took for a path (it holds '/') and refused: the hint did not work as printed."""
    wt = tmp_path / "wt"
    made = 0
    for name in ("b", "a\n"):
        main = tmp_path / name
        main.mkdir()
        git(main, "init", "-q")
        (main / "f").write_text(name)
        git(main, "add", "f")
        git(main, "commit", "-qm", "f")
        git(main, "worktree", "add", "-q", str(wt), "-b", "side")
        (wt / ".env").write_text(f"SECRET of {name}\n")
        if name == "b":
            gs(wt, "watch", "add", ".")
            gs(wt, "watch", "stop")
        made = int(gs(wt, "create", GIT_SNAPSHOT_WATCH="0").split()[1].rstrip(":"))
        shutil.rmtree(wt)
        git(main, "worktree", "prune")
    try:
        data = json.loads(gs(tmp_path, "watch", "status", "--json", GIT_SNAPSHOT_WATCH="0"))
        (item,) = [w for w in data["worktrees"] if w["path"] == str(wt)]
        assert item["snapshot"]["id"] == made, item
        command = item["restore"]
        env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
        elsewhere = tmp_path / "elsewhere"  # not beside the repositories: a name, not a path
        elsewhere.mkdir()
        for shell in ("sh", "bash"):
            argv = [shell, "-c", command]
            res = subprocess.run(argv, cwd=elsewhere, env=env, capture_output=True)
            assert res.returncode == 0, (command, res.stderr)
            assert (wt / ".env").read_text() == "SECRET of a\n\n"
            shutil.rmtree(wt)
    finally:
        gs(tmp_path, "watch", "stop")


def test_the_watchers_loss_line_shows_a_removed_worktrees_name_escaped() -> None:
    """watch/bursts.message printed the removed worktree's path raw (its restore command
    was quoted, the words before it were not)."""
    from git_snapshot.losses import Loss
    from git_snapshot.watch import bursts

    removed = "/w/" + HOSTILE
    line = bursts.message(
        removed, [Loss(b"a", "untracked", "deleted")], b"", 0.0, 3, [b"a"], removed=removed
    )
    _one_clean_line(line)
    assert "in the removed worktree \"$(printf '/w/x\\033[2J" in line, line  # its shell word


def test_a_repository_at_an_odd_path_is_shown_escaped_in_every_listing(tmp_path: Path) -> None:
    """A worktree whose folder's name holds an escape sequence and a newline (nothing hostile
    about it): list --all, stats, doctor and watch add/status printed it raw."""
    repo = tmp_path / HOSTILE
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "a").write_text("a\n")
    gs(repo, "create", GIT_SNAPSHOT_WATCH="0")
    outs = [
        gs(repo, "list", "--all").out,
        gs(repo, "stats").out,
        gs(repo, "doctor", rc=None).out,
    ]
    try:
        outs.append(gs(repo, "watch", "add", ".").out)
        outs.append(gs(repo, "watch", "status").out)
        outs.append(gs(repo, "watch", "remove", ".").out)
    finally:
        gs(repo, "watch", "stop")
    for out in outs:
        assert "\x1b" not in out, out
        assert not [ln for ln in out.splitlines() if ln.startswith("y")], out  # not split


def test_repo_name_slash_still_means_the_folder_when_it_exists(tmp_path: Path) -> None:
    """--repo proj/ where a folder proj is here (no repository of the store): refused, as
    before, never another repository of the store that is called proj."""
    other = tmp_path / "elsewhere" / "proj"
    other.mkdir(parents=True)
    git(other, "init", "-q")
    (other / "f").write_text("other's\n")
    gs(other, "create", GIT_SNAPSHOT_WATCH="0")
    here = tmp_path / "here"
    (here / "proj").mkdir(parents=True)
    ran = gs(here, "list", "--repo", "proj/", rc=1)
    assert "no repository at" in ran.err, ran.err
    assert "1" in gs(tmp_path, "list", "--repo", "proj/").out  # no folder proj there: the name


def test_a_failing_hooks_line_shows_the_problem_escaped(tmp_path: Path) -> None:
    """A hook that fails printed its problem raw: a store path holding an escape sequence
    and a newline reached the terminal and split the line."""
    from hookhelpers import install

    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "a").write_text("a\n")
    git(repo, "add", "a")
    git(repo, "commit", "-qm", "a")
    install(repo)
    env = {k: v for k, v in os.environ.items() if k != "GIT_SNAPSHOT_ALLOW_EPHEMERAL"}
    env["GIT_SNAPSHOT_STORE"] = "/tmp/red7" + HOSTILE
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"
    res = subprocess.run(
        ["git", "checkout", "-q", "-b", "z"], cwd=repo, env=env, capture_output=True, text=True
    )
    lines = [ln for ln in res.stderr.splitlines() if "snapshot failed" in ln]
    assert len(lines) == 1 and "x\\x1b[2J" in lines[0], res.stderr
    assert "\x1b" not in res.stderr, res.stderr
