"""RED40 B F2: on a machine whose store and worktrees are gone (what remotes are for),
``list``, ``cat`` and ``restore --remote NAME`` run outside any worktree said "not a git
repository ... (run inside a worktree or pass -C PATH)": no worktree exists there, so -C
cannot help, and the options that work (``--repo NAME``, ``list --remote NAME --all``) were
not named.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import gs
from conftest import committed_repo
from remotehelpers import machine
from remotehelpers import on


@pytest.fixture(autouse=True)
def _config_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(Path(os.environ["HOME"]) / "config"))


@pytest.fixture
def rescue(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A repository pushed to remote usb, and another machine that knows only the remote:
    its environment and a folder there that is no repository."""
    repo = committed_repo(tmp_path / "proj")
    (repo / "notes.txt").write_text("precious\n")
    gs(repo, "-m", "pushed")
    url = f"file://{tmp_path}/remote"
    gs(repo, "remote", "add", "usb", url)
    gs(repo, "push", "usb")
    other = machine(tmp_path, "other")
    key = Path(os.environ["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "usb.key"
    plain = tmp_path / "plain"
    plain.mkdir()
    on(other, plain, "remote", "add", "usb", url, "--key", str(key))
    return other, plain


@pytest.mark.parametrize(
    "args",
    [
        ("list", "--remote", "usb"),
        ("cat", "--remote", "usb", "1", "notes.txt"),
        ("restore", "--remote", "usb", "1", "--to", "out"),
    ],
)
def test_remote_reads_outside_a_worktree_name_the_repo_option(
    rescue: tuple[dict[str, str], Path], args: tuple[str, ...]
) -> None:
    other, plain = rescue
    ran = on(other, plain, *args, rc=1)
    assert "-C PATH" not in ran.err, ran.err
    assert "--repo NAME" in ran.err, ran.err
    assert "git snapshot list --remote usb --all" in ran.err, ran.err
    assert len(ran.err.splitlines()) == 1, ran.err
    # what it names works there
    assert "proj" in on(other, plain, "list", "--remote", "usb", "--all").out
    assert on(other, plain, "cat", "--remote", "usb", "--repo", "proj", "1", "notes.txt").out == (
        "precious\n"
    )
