"""The hook's fixed cost, kept down: how many git processes one hook run starts, the config
read once with its scopes (the repository id from the same call), the lean `hook` entry, and
the labels of what lies below a directory git calls ignored."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import head
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write

from git_snapshot import gitrepo
from git_snapshot import hookmain
from git_snapshot import identity
from git_snapshot import worktree
from git_snapshot.errors import UserError
from git_snapshot.store import Store


def _git_calls(trace: Path) -> list[str]:
    """The git commands a GIT_TRACE file shows, the ones git-snapshot started."""
    text = trace.read_text(encoding="utf-8", errors="replace")
    return re.findall(r"built-in: git (.*)$", text, re.M)


def test_a_hook_run_starts_three_git_processes(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    git(repo, "config", "snapshot.keepLast", "50")  # typed keys: read from the one call
    git(repo, "config", "snapshot.watch", "false")
    gs(repo, "hook", "post-checkout", head(repo), head(repo), "1")  # first: gives the id
    h = head(repo)
    three = [
        "config -z --show-scope --get-regexp",  # '^(snapshot\\.|core...)', cut at " '^("
        "ls-files -z",
        "ls-files -z --others --ignored --exclude-standard --directory",
    ]
    for value, typed in (("50", []), ("1k", ["config -z --type=int --get-regexp"])):
        git(repo, "config", "snapshot.keepLast", value)
        trace = tmp_path / f"trace-{value}.txt"
        ran = gs(repo, "hook", "post-checkout", h, h, "1", GIT_TRACE=str(trace))
        assert "unchanged since snapshot" in ran.err
        calls = _git_calls(trace)
        # no rev-parse (the hook runs at the worktree root: .git says where the repository
        # is), then side by side: the snapshot.* config (with the repository id), the tracked
        # and the ignored paths; keepLast and watch, plainly spelled, read from the config's
        # answer (1k: git reads it, as an int); no diff-tree for a checkout that stayed on
        # the same commit
        assert sorted(c.split(" '^(")[0] for c in calls) == sorted(three + typed), calls


def test_remembered_config_gives_the_local_id_and_forgets_after_a_write(repo: Path) -> None:
    git(repo, "config", "--global", "snapshot.repoId", "from-global")  # not the repo's own
    r = gitrepo.find_repo(str(repo), remember=True)
    gitrepo.prefetch(r)
    assert gitrepo.local_values(r, identity.CONFIG_KEY) == []
    assert gitrepo.config(r)["snapshot.repoid"] == ["from-global"]
    with Store() as store:
        key = identity.source(store, r)  # assigns an id: the write is seen afterwards
    own = git(repo, "config", "--local", "snapshot.repoId").out.strip()
    assert key.endswith("#" + own)
    assert gitrepo.local_values(r, identity.CONFIG_KEY) == [own]
    assert gitrepo.config(r)["snapshot.repoid"] == ["from-global", own]
    gitrepo.release(r)  # the tracked and ignored paths were not asked for
    assert r.memo is not None and "config" in r.memo
    assert not any(isinstance(v, gitrepo.Pending) for v in r.memo.values())
    plain = gitrepo.find_repo(str(repo))
    assert plain == r and plain.memo is None
    assert gitrepo.local_values(plain, identity.CONFIG_KEY) == [own]


def test_prefetched_answers_are_used_once(repo: Path) -> None:
    r = gitrepo.find_repo(str(repo), remember=True)
    gitrepo.prefetch(r)
    write(repo / "new.txt", b"x")
    assert gitrepo.tracked(r) == {b"README"}
    git(repo, "add", "new.txt")
    assert gitrepo.tracked(r) == {b"README", b"new.txt"}  # asked again
    gitrepo.release(r)


def test_labels_below_an_ignored_directory(repo: Path) -> None:
    """A directory git lists as ignored holds nothing tracked; one with a force-added file
    is looked into, file by file."""
    (repo / ".gitignore").write_text("node_modules/\n")
    write(repo / "node_modules" / "a" / "index.js", b"a")
    write(repo / "node_modules" / "kept" / "patched.js", b"p")
    write(repo / "node_modules" / "kept" / "other.js", b"o")
    git(repo, "add", ".gitignore")
    git(repo, "add", "-f", "node_modules/kept/patched.js")
    git(repo, "commit", "-q", "-m", "force-added")
    classify = worktree.classifier(gitrepo.find_repo(str(repo)))
    nm = classify(b"node_modules", True, 0)
    assert nm == 0  # not wholly ignored: it holds a tracked file
    a = classify(b"node_modules/a", True, nm)
    assert a == worktree.IGNORED
    assert classify(b"node_modules/a/index.js", False, a) == worktree.IGNORED
    kept = classify(b"node_modules/kept", True, nm)
    assert kept == 0
    assert classify(b"node_modules/kept/patched.js", False, kept) == worktree.TRACKED
    assert classify(b"node_modules/kept/other.js", False, kept) == worktree.IGNORED
    assert classify(b"README", False, 0) == worktree.TRACKED


def test_lean_entry_takes_only_hook_calls() -> None:
    assert hookmain.is_hook_call(["hook", "post-checkout", "a", "b", "1"])
    assert hookmain.is_hook_call(["hook", "post-merge"])
    assert not hookmain.is_hook_call(["hook"])
    assert not hookmain.is_hook_call(["hook", "-h"])
    assert not hookmain.is_hook_call(["-C", "x", "hook", "post-merge"])
    assert not hookmain.is_hook_call(["list"])


def test_hook_through_the_installed_shim(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shim, the lean entry, the snapshot, the one line: as git runs it."""
    put_venv_on_path(monkeypatch)
    install(repo)
    ran = git(repo, "checkout", "-b", "topic")
    assert re.search(r"git-snapshot: snapshot \d+ \(post-checkout\)", ran.err), ran
    ran = git(repo, "checkout", "-b", "other")
    assert "git-snapshot: unchanged since snapshot" in ran.err, ran
    assert gs(repo, "hook", "-h", rc=None).rc == 0  # not a hook call: argparse's help
    assert os.path.isfile(repo / ".git" / "hooks" / "post-checkout")


def test_hooks_dir_from_the_same_rev_parse(repo: Path) -> None:
    (repo / "sub").mkdir()
    for hooks_path in (None, "my-hooks"):
        if hooks_path:
            git(repo, "config", "core.hooksPath", hooks_path)
        want = repo / (hooks_path or ".git/hooks")
        for where in (repo, repo / "sub"):
            remembering = gitrepo.find_repo(str(where), remember=True)
            assert remembering.hooks_dir() == str(want.resolve())
            assert gitrepo.find_repo(str(where)).hooks_dir() == str(want.resolve())


def _asked(where: Path) -> gitrepo.Repo | None:
    """The repository as ``git rev-parse`` sees it from *where* (what find_repo did always)."""
    out = git(
        where, "rev-parse", "--absolute-git-dir", "--git-common-dir", "--show-toplevel", rc=None
    )
    if out.rc != 0 or len(out.out.splitlines()) < 3 or not out.out.splitlines()[2]:
        return None
    git_dir, common, top = out.out.splitlines()[:3]
    return gitrepo.Repo(
        os.path.realpath(top),
        os.path.realpath(os.path.join(where, git_dir)),
        os.path.realpath(os.path.join(where, common)),
    )


def test_repository_found_from_its_files_as_git_finds_it(repo: Path, tmp_path: Path) -> None:
    """At a worktree root the repository is read from .git, not asked of git: the same answer
    as rev-parse for a main worktree, a linked one and a submodule; a worktree moved by
    core.worktree, a repository configured bare and a folder inside a worktree are asked."""
    git(repo, "worktree", "add", "-q", str(tmp_path / "linked"))
    sub_src = tmp_path / "subsrc"
    git(tmp_path, "init", "-q", str(sub_src))
    (sub_src / "f").write_text("f\n")
    git(sub_src, "add", "f")
    git(sub_src, "commit", "-q", "-m", "sub")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub_src), "sub")
    (repo / "dir").mkdir()
    cases = [repo, tmp_path / "linked", repo / "sub", repo / "dir"]
    assert gitrepo._at_root(str(repo)) is not None
    assert gitrepo._at_root(str(tmp_path / "linked")) is not None
    assert gitrepo._at_root(str(repo / "sub")) is None  # its config names core.worktree
    assert gitrepo._at_root(str(repo / "dir")) is None
    moved = tmp_path / "moved"
    git(tmp_path, "init", "-q", str(moved))
    (tmp_path / "elsewhere").mkdir()
    git(moved, "config", "core.worktree", str(tmp_path / "elsewhere"))
    bare = tmp_path / "bare"
    git(tmp_path, "init", "-q", str(bare))
    git(bare, "config", "core.bare", "true")
    assert gitrepo._at_root(str(moved)) is None
    assert gitrepo._at_root(str(bare)) is None
    for where in cases:
        for remember in (False, True):
            found = gitrepo.find_repo(str(where), remember=remember)
            assert found == _asked(where), where
            assert (found.memo is not None) == remember
    with pytest.raises(UserError, match="bare repository"):
        gitrepo.find_repo(str(bare))


def test_git_runs_with_standard_descriptors_closed(repo: Path, tmp_path: Path) -> None:
    """A hook may start with stdin or stderr closed: the pipes to git then get descriptors 0
    and 2, which must not end up as git's own (closed on exec) streams."""
    out = tmp_path / "out.txt"
    script = (
        "import os, sys\n"
        "from git_snapshot import gitrepo\n"
        "os.close(0); os.close(2)\n"
        "head = gitrepo.run_git(sys.argv[1], 'rev-parse', 'HEAD').decode().strip()\n"
        "err = gitrepo._run(sys.argv[1], ['rev-parse', '--verify', 'nope']).stderr\n"
        "fed = gitrepo.run_git(sys.argv[1], 'hash-object', '--stdin', input=b'x' * 200000)\n"
        "open(sys.argv[2], 'w').write(head + ' ' + str(bool(err)) + ' ' + fed.decode())\n"
    )
    subprocess.run([sys.executable, "-c", script, str(repo), str(out)], check=True)
    want = git(repo, "rev-parse", "HEAD").out.strip()
    blob = subprocess.run(
        ["git", "hash-object", "--stdin"], input=b"x" * 200000, capture_output=True, check=True
    ).stdout.decode()
    assert out.read_text() == f"{want} True {blob}"


def test_labels_not_asked_up_front_while_a_watcher_keeps_the_dirty_set(
    repo: Path, store_dir: Path
) -> None:
    """With a live watcher of the worktree an unchanged hook needs none of git's labels: the
    hook starts only `git config`; worktree.take starts both ls-files when the plan is not
    fast. Without a journal, or without a live daemon, they start up front as before."""
    from git_snapshot import hooks
    from git_snapshot.watch import dirtyset
    from git_snapshot.watch import instance

    store = str(store_dir)
    r = gitrepo.find_repo(str(repo), remember=True)
    assert not hooks._watched(r)  # no watcher ever ran with this store
    dirtyset.watching(store, r.toplevel)  # the journal, as the daemon writes it
    assert not hooks._watched(r)  # nobody holds the daemon lock
    with instance.hold(store) as held:
        assert held and hooks._watched(r)
        gitrepo.prefetch(r, labels=False)
        assert r.memo is not None and set(r.memo) == {"config"}
        gitrepo.prefetch(r)  # what worktree.take does when the plan is not fast
        assert {"config", "tracked", "ignored"} <= set(r.memo)
        assert gitrepo.tracked(r) == {b"README"}
        gitrepo.release(r)
    assert not hooks._watched(r)
