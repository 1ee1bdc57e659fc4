"""``git snapshot install`` next to the hook managers people use, with real git and the real CLI.

husky 9 and lefthook are reproduced without npm: their files are written as they write them
(husky 9: ``core.hooksPath=.husky/_``, a dispatcher ``h`` that finds the user's hook by
``basename $0``, one stub per hook, a ``.gitignore`` of ``*``; lefthook: a script per hook in
.git/hooks that calls ``lefthook run NAME``, and a non-lefthook hook moved to ``NAME.old``).
Every user hook logs its name to a file, so a silenced hook is seen.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import init_repo
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import triggers

# husky 9's dispatcher (husky/husky, file "husky"), copied to .husky/_/h by `husky`.
HUSKY_H = """\
#!/usr/bin/env sh
[ "$HUSKY" = "2" ] && set -x
n=$(basename "$0")
s=$(dirname "$(dirname "$0")")/$n

[ ! -f "$s" ] && exit 0

if [ -f "$HOME/.huskyrc" ]; then
	echo "husky - '~/.huskyrc' is DEPRECATED, please move your code to ~/.config/husky/init.sh"
fi
i="${XDG_CONFIG_HOME:-$HOME/.config}/husky/init.sh"
[ -f "$i" ] && . "$i"

[ "${HUSKY-}" = "0" ] && exit 0

export PATH="node_modules/.bin:$PATH"
sh -e "$s" "$@"
c=$?

[ $c != 0 ] && echo "husky - $n script failed (code $c)"
[ $c = 127 ] && echo "husky - command not found in PATH=$PATH"
exit $c
"""
HUSKY_STUB = '#!/usr/bin/env sh\n. "$(dirname "$0")/h"'
HUSKY_HOOKS = (
    "pre-commit",
    "pre-merge-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "applypatch-msg",
    "pre-applypatch",
    "post-applypatch",
    "pre-rebase",
    "post-rewrite",
    "post-checkout",
    "post-merge",
    "pre-push",
    "pre-auto-gc",
)
# The hooks the issue saw silenced: each must still run after install.
USER_HOOKS = ("post-checkout", "post-merge", "post-rewrite", "pre-rebase", "pre-merge-commit")

# The snapshots `exercise` takes.
SNAPSHOTS = {"post-checkout", "pre-merge-commit", "pre-rebase", "post-rewrite"}

# lefthook's hook script (internal/templates/hook.tmpl), for a lefthook found on PATH.
LEFTHOOK_SCRIPT = """\
#!/bin/sh

if [ "$LEFTHOOK" = "0" ]; then
  exit 0
fi

call_lefthook()
{
  if lefthook -h >/dev/null 2>&1
  then
    eval lefthook $@
  else
    echo "Can't find lefthook in PATH"
  fi
}

call_lefthook "run @NAME@ $@"
"""


def write(path: Path, text: str, mode: int = 0o755) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def npm_install_husky(repo: Path) -> None:
    """What husky 9 does at every `npm install` (its `prepare` script)."""
    git(repo, "config", "core.hooksPath", ".husky/_")
    d = repo / ".husky" / "_"
    d.mkdir(parents=True, exist_ok=True)
    write(d / ".gitignore", "*", 0o644)
    write(d / "h", HUSKY_H)
    for name in HUSKY_HOOKS:
        write(d / name, HUSKY_STUB)


def user_hook(log: Path, name: str) -> str:
    return f'#!/bin/sh\necho "{name} $*" >> {log}\n'


def ran(log: Path) -> list[str]:
    """Names of the user hooks that ran, in order (and forget them)."""
    if not log.exists():
        return []
    names = [line.split()[0] for line in log.read_text().splitlines()]
    log.unlink()
    return names


def diverge(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, "f.txt", b"feature\n")
    git(repo, "checkout", "-q", "main")
    commit(repo, "m.txt", b"main\n")


def exercise(repo: Path) -> None:
    """checkout, a three-way merge, a rebase: every hook of USER_HOOKS fires."""
    git(repo, "checkout", "-q", "-b", "topic", "feature")
    git(repo, "merge", "-q", "--no-edit", "main")
    git(repo, "checkout", "-q", "-b", "line", "feature")
    commit(repo, "l.txt", b"line\n")
    git(repo, "rebase", "-q", "main")


def doctor(repo: Path, rc: int) -> dict[str, str]:
    out = gs(repo, "doctor", rc=rc).out
    return {
        line.split(":", 1)[0]: line.split(":", 1)[1].strip()
        for line in out.splitlines()
        if ":" in line
    }


@pytest.fixture
def husky(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repo set up with husky 9: user hooks in .husky/NAME (tracked), husky's files in
    .husky/_ (ignored), core.hooksPath=.husky/_."""
    put_venv_on_path(monkeypatch)
    log = tmp_path / "user-hooks.log"
    for name in USER_HOOKS:
        write(repo / ".husky" / name, user_hook(log, name), 0o644)  # husky runs them with sh
    git(repo, "add", ".husky")
    git(repo, "commit", "-q", "-m", "husky hooks")
    npm_install_husky(repo)
    diverge(repo)
    assert ran(log) == ["post-checkout", "post-checkout"]  # husky works
    return repo


def test_husky_install_silences_nothing_and_changes_no_tracked_file(
    husky: Path, tmp_path: Path
) -> None:
    log = tmp_path / "user-hooks.log"
    husky_files = {p.name: p.read_bytes() for p in (husky / ".husky" / "_").iterdir()}
    install(husky)
    assert git(husky, "status", "--porcelain", "--untracked-files=all").out == ""
    assert {p.name: p.read_bytes() for p in (husky / ".husky" / "_").iterdir()} == husky_files
    exercise(husky)
    assert sorted(set(ran(log))) == sorted(USER_HOOKS)
    assert set(triggers(husky)) >= SNAPSHOTS, triggers(husky)
    states = doctor(husky, 0)
    assert states["post-checkout"].startswith("fires: git-snapshot's shim; then runs husky")
    assert ".husky/post-checkout" in states["post-checkout"]


def test_husky_npm_install_after_ours_then_install_and_uninstall_again(
    husky: Path, tmp_path: Path
) -> None:
    log = tmp_path / "user-hooks.log"
    config_before = git(husky, "config", "--local", "--list").out
    install(husky)
    npm_install_husky(husky)  # sets core.hooksPath back: our hooks are bypassed, not theirs
    git(husky, "checkout", "-q", "feature")
    assert ran(log) == ["post-checkout"]
    states = doctor(husky, 1)
    assert states["post-checkout"].startswith("WILL NOT FIRE")
    assert "core.hooksPath was set again to .husky/_" in gs(husky, "doctor", rc=1).out
    install(husky)  # works again
    doctor(husky, 0)
    before = len(triggers(husky))
    git(husky, "checkout", "-q", "main")
    assert ran(log) == ["post-checkout"] and len(triggers(husky)) == before + 1
    gs(husky, "uninstall")
    assert git(husky, "config", "core.hooksPath").out.strip() == ".husky/_"
    assert not (husky / ".git" / "git-snapshot").exists()
    config_after = git(husky, "config", "--local", "--list").out
    assert [ln for ln in config_after.splitlines() if not ln.startswith("snapshot.repoid")] == [
        ln for ln in config_before.splitlines()
    ]
    git(husky, "checkout", "-q", "feature")
    assert ran(log) == ["post-checkout"]


def test_uninstall_after_npm_install_leaves_nothing_behind(husky: Path) -> None:
    install(husky)
    npm_install_husky(husky)
    gs(husky, "uninstall")
    assert not (husky / ".git" / "git-snapshot").exists()
    assert git(husky, "config", "--get-regexp", "^snapshot\\.hooks", rc=None).out == ""
    assert sorted(p.name for p in (husky / ".husky" / "_").iterdir()) == sorted(
        [".gitignore", "h", *HUSKY_HOOKS]
    )


@pytest.fixture
def githooks(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """core.hooksPath on a tracked folder, .githooks, with the user's post-merge in it."""
    put_venv_on_path(monkeypatch)
    log = tmp_path / "user-hooks.log"
    for name in USER_HOOKS:
        write(repo / ".githooks" / name, user_hook(log, name))
    git(repo, "add", ".githooks")
    git(repo, "commit", "-q", "-m", "shared hooks")
    git(repo, "config", "core.hooksPath", ".githooks")
    diverge(repo)
    ran(log)
    return repo


def test_tracked_hooks_folder_stays_untouched(githooks: Path, tmp_path: Path) -> None:
    log = tmp_path / "user-hooks.log"
    tracked = {p.name: p.read_bytes() for p in (githooks / ".githooks").iterdir()}
    install(githooks)
    assert git(githooks, "status", "--porcelain", "--untracked-files=all").out == ""
    git(githooks, "add", "-A")
    assert git(githooks, "diff", "--cached", "--name-only").out == ""  # nothing to commit
    assert {p.name: p.read_bytes() for p in (githooks / ".githooks").iterdir()} == tracked
    exercise(githooks)
    assert sorted(set(ran(log))) == sorted(USER_HOOKS)
    assert set(triggers(githooks)) >= SNAPSHOTS, triggers(githooks)


def test_tracked_hooks_folder_stash_and_checkout_keep_our_hooks(githooks: Path) -> None:
    install(githooks)
    (githooks / "README").write_text("edited\n")
    git(githooks, "stash", "-q")
    git(githooks, "stash", "pop", "-q")
    git(githooks, "checkout", "--", ".")
    doctor(githooks, 0)
    gs(githooks, "uninstall")
    assert git(githooks, "config", "core.hooksPath").out.strip() == ".githooks"
    assert git(githooks, "status", "--porcelain").out == ""


def test_linked_worktree_runs_its_own_checkout_of_husky(husky: Path, tmp_path: Path) -> None:
    """A relative core.hooksPath is resolved from each worktree's root, as git does."""
    log = tmp_path / "user-hooks.log"
    install(husky)
    wt = tmp_path / "wt"
    git(husky, "worktree", "add", "-q", str(wt), "feature")
    npm_install_husky(wt)  # the worktree's own node_modules install
    git(husky, "config", "core.hooksPath", str(husky / ".git" / "git-snapshot" / "hooks"))
    ran(log)
    git(wt, "checkout", "-q", "-b", "wt-branch")
    assert ran(log) == ["post-checkout"]
    assert "post-checkout" in triggers(wt)


# --------------------------------------------------------------------------- lefthook


@pytest.fixture
def lefthook(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """lefthook installed in .git/hooks; a `lefthook` on PATH logs what it runs."""
    put_venv_on_path(monkeypatch)
    log = tmp_path / "user-hooks.log"
    bindir = tmp_path / "bin"
    fake = f'#!/bin/sh\n[ "$1" = run ] && echo "$2 lefthook" >> {log}\nexit 0\n'
    write(bindir / "lefthook", fake)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    lefthook_install(repo)
    diverge(repo)
    ran(log)
    return repo


def lefthook_install(repo: Path) -> None:
    """What `lefthook install` does: a hook that is not its own goes to NAME.old."""
    hooks = repo / ".git" / "hooks"
    for name in ("post-checkout", "post-merge", "pre-commit"):
        hook = hooks / name
        if hook.exists() and b"LEFTHOOK" not in hook.read_bytes():
            assert not (hooks / f"{name}.old").exists(), "lefthook would refuse"
            hook.rename(hooks / f"{name}.old")
        write(hook, LEFTHOOK_SCRIPT.replace("@NAME@", name))


def test_lefthook_before_and_after_us(lefthook: Path, tmp_path: Path) -> None:
    log = tmp_path / "user-hooks.log"
    install(lefthook)
    git(lefthook, "checkout", "-q", "feature")
    assert ran(log) == ["post-checkout"]
    assert triggers(lefthook)[-1] == "post-checkout"
    doctor(lefthook, 0)

    lefthook_install(lefthook)  # our shim goes to post-checkout.old, which lefthook never runs
    states = doctor(lefthook, 1)
    assert "lefthook moved our shim to post-checkout.old" in states["post-checkout"]
    gs(lefthook, "install")  # no conflict: the stale copy goes, lefthook's script is chained
    hooks = lefthook / ".git" / "hooks"
    assert not (hooks / "post-checkout.old").exists()
    lefthook_install(lefthook)  # and lefthook can install again
    gs(lefthook, "install")
    count = len(triggers(lefthook))
    git(lefthook, "checkout", "-q", "main")
    assert ran(log) == ["post-checkout"] and len(triggers(lefthook)) == count + 1

    gs(lefthook, "uninstall")
    left = sorted(p.name for p in hooks.iterdir() if not p.name.endswith(".sample"))
    assert left == ["post-checkout", "post-merge", "pre-commit"]
    assert all(b"LEFTHOOK" in (hooks / n).read_bytes() for n in left)


def test_uninstall_after_lefthook_took_over_leaves_nothing(lefthook: Path) -> None:
    install(lefthook)
    lefthook_install(lefthook)
    gs(lefthook, "uninstall")
    hooks = lefthook / ".git" / "hooks"
    left = sorted(p.name for p in hooks.iterdir() if not p.name.endswith(".sample"))
    assert left == ["post-checkout", "post-merge", "pre-commit"]


def test_a_hook_that_finds_itself_by_name_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """husky 4 style, in .git/hooks: moved aside it would look for the wrong name."""
    put_venv_on_path(monkeypatch)
    repo = init_repo(tmp_path / "r")
    hooks = repo / ".git" / "hooks"
    write(hooks / "post-merge", '#!/bin/sh\n. "$(dirname "$0")/husky.sh"\n')
    before = sorted(p.name for p in hooks.iterdir())
    res = gs(repo, "install", rc=1)
    assert len(res.err_lines) == 1
    assert "finds its own files from its name" in res.err
    assert 'git-snapshot hook post-merge "$@"' in res.err
    assert sorted(p.name for p in hooks.iterdir()) == before
    assert stat.S_IMODE((hooks / "post-merge").stat().st_mode) == 0o755
