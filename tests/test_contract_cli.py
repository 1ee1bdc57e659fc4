"""The product against DESIGN.md, as a user runs it: one test per place where QA found the
product differing from the contract (each failed before its fix)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs

from git_snapshot.errors import UserError
from git_snapshot.store import Store
from git_snapshot.store import location
from git_snapshot.store.remote import auto

KINDS = {"tracked", "untracked", "ignored"}


def _entries(repo: Path, *args: str) -> dict[str, str]:
    data = json.loads(gs(repo, "show", *args, "--json").out)
    return {e["path"]: e["kind"] for e in data["entries"]}


def test_show_gives_every_entry_a_kind_folders_too(repo: Path) -> None:
    """DESIGN: show lists 'the entries of one snapshot, each with its kind: tracked,
    untracked or ignored'; a folder is tracked when it holds a tracked file, ignored when all
    it holds is ignored (git status --ignored shows it so), else untracked."""
    (repo / ".gitignore").write_text("build/\n*.log\n")
    (repo / "src" / "deep").mkdir(parents=True)
    (repo / "src" / "deep" / "m.py").write_text("x\n")
    git(repo, "add", ".gitignore", "src")
    git(repo, "commit", "-q", "-m", "src")
    (repo / "src" / "new.py").write_text("u\n")
    (repo / "src" / "deep" / "x.log").write_text("log\n")
    (repo / "build" / "out" / "empty").mkdir(parents=True)
    (repo / "build" / "out" / "a.o").write_text("o\n")
    (repo / "notes" / "empty").mkdir(parents=True)
    (repo / "logs").mkdir()
    (repo / "logs" / "today.log").write_text("l\n")
    gs(repo)
    kinds = _entries(repo, "latest")
    assert set(kinds.values()) <= KINDS, kinds
    assert kinds["src"] == kinds["src/deep"] == "tracked"
    assert kinds["src/new.py"] == "untracked" and kinds["src/deep/x.log"] == "ignored"
    assert kinds["build"] == kinds["build/out"] == kinds["build/out/empty"] == "ignored"
    assert kinds["logs"] == "ignored"
    assert kinds["notes"] == kinds["notes/empty"] == "untracked"
    # the same with PATHs named, and in the table
    assert _entries(repo, "latest", "build") == {
        "build": "ignored",
        "build/out": "ignored",
        "build/out/a.o": "ignored",
        "build/out/empty": "ignored",
    }
    table = gs(repo, "show", "latest").out.splitlines()
    rows = {line.split()[-1]: line.split()[0] for line in table[2:] if line.endswith("/")}
    assert rows["src/"] == "tracked" and rows["build/out/empty/"] == "ignored", rows


def test_an_ephemeral_store_is_refused_naming_the_safe_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DESIGN: a store on ephemeral storage 'is refused with a clear error naming the safe
    default', also when HOME (and so the default) is itself on a temp dir, as in CI."""
    default = tmp_path / "home" / ".local" / "share" / "git-snapshot"
    monkeypatch.setattr(location, "default_store_dir", lambda: str(default))
    monkeypatch.delenv(location.ENV_ALLOW_EPHEMERAL)
    bad = tmp_path / "store"
    monkeypatch.setenv(location.ENV_STORE, str(bad))
    with pytest.raises(UserError) as info:
        Store(None)
    msg = str(info.value)
    assert str(bad) in msg and str(default) in msg and location.ENV_STORE in msg
    assert "\n" not in msg and not bad.exists()


def test_restore_names_what_it_removes_with_a_folder_in_the_way(repo: Path) -> None:
    """DESIGN: restore never deletes a file the snapshot lacks unless --delete, and --dry-run
    lists what would change. A folder now where the snapshot has a file is replaced (the
    pre-restore snapshot holds it): what it held is named as deleted, dry run or not."""
    (repo / "thing").write_text("a file in the snapshot\n")
    gs(repo)
    (repo / "thing").unlink()
    (repo / "thing" / "sub").mkdir(parents=True)
    (repo / "thing" / "precious.txt").write_text("not in the snapshot\n")
    (repo / "thing" / "sub" / "b.txt").write_text("b\n")
    dry = json.loads(gs(repo, "restore", "1", "--dry-run", "--json").out)
    assert sorted(dry["deleted"]) == ["thing/precious.txt", "thing/sub"], dry
    assert (repo / "thing" / "precious.txt").exists()
    text = gs(repo, "restore", "1", "--dry-run").out
    assert "would delete thing/precious.txt" in text and "2 deleted" in text, text
    done = gs(repo, "restore", "1").out
    assert "delete thing/precious.txt" in done and "delete thing/sub" in done, done
    assert (repo / "thing").read_text() == "a file in the snapshot\n"
    pre = json.loads(gs(repo, "list", "--json").out)[-1]
    assert pre["trigger"] == "pre-restore"
    assert gs(repo, "cat", str(pre["id"]), "thing/precious.txt").out == "not in the snapshot\n"


def test_a_directory_remote_is_added_by_its_path(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DESIGN: remotes are 'the S3 API ... or a second directory'; as git remote add takes a
    path, remote add takes the directory's path (relative to -C / the current directory)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (repo / "f.txt").write_text("pushed\n")
    gs(repo)
    gs(repo, "remote", "add", "backup", "../second-disk")
    listed = json.loads(gs(repo, "remote", "list", "--json").out)
    assert [r["url"] for r in listed] == [(tmp_path / "second-disk").as_uri()]
    gs(repo, "push", "backup")
    assert (tmp_path / "second-disk").is_dir()
    assert gs(repo, "cat", "--remote", "backup", "1", "f.txt").out == "pushed\n"


def test_push_sends_no_copy_the_store_found_damaged(
    repo: Path, tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DESIGN: damage never spreads: an object found damaged is recorded and the next snapshot
    stores it afresh. A push after that gives the remote the intact copy, not the damaged
    one (the remote then verified damaged what the local store holds intact)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (repo / "data.bin").write_bytes(bytes(range(256)) * 200)
    gs(repo)
    (pack,) = (store_dir / "packs").glob("*.pack")
    data = bytearray(pack.read_bytes())
    data[len(data) // 2] ^= 0xFF
    pack.write_bytes(bytes(data))
    gs(repo, "cat", "1", "data.bin", rc=1)  # found damaged: recorded
    gs(repo)  # stores it afresh
    assert "ok:" in gs(repo, "verify", "--read-data", "2")
    gs(repo, "remote", "add", "r", (tmp_path / "remote").as_uri())
    gs(repo, "push")
    ran = gs(repo, "verify", "--remote", "r", "--read-data", "2", rc=None)
    assert ran.rc == 0 and "DAMAGED" not in ran.out, ran.out + ran.err


def test_a_restore_refused_for_its_paths_takes_no_pre_restore_snapshot(repo: Path) -> None:
    """A mistyped PATH (or one under .git) is refused in one line before anything happens:
    no pre-restore snapshot piles up in 'list' for a restore that never ran."""
    gs(repo)
    bad = gs(repo, "restore", "1", "no-such-file", rc=1)
    assert bad.err_lines == [
        "git-snapshot: no-such-file is not in snapshot 1; see the snapshots holding it with: "
        "git snapshot log no-such-file"
    ]
    git_dir = gs(repo, "restore", "1", ".git/config", rc=1)
    assert "restore never writes into .git" in git_dir.err and len(git_dir.err_lines) == 1
    assert [s["id"] for s in json.loads(gs(repo, "list", "--json").out)] == [1]


def test_everything_in_the_store_is_private(
    repo: Path, tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DESIGN: 'Directories 0700, files 0600: the store holds people's secrets', whatever
    wrote them: snapshots, hooks and their loss reports, find's history, the watcher's
    registry, a remote's cache."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    old = os.umask(0o022)
    try:
        gs(repo, "install")
        (repo / ".env").write_text("SECRET=1\n")
        git(repo, "checkout", "-q", "-b", "other")
        gs(repo, "run", "--", "git", "clean", "-fdxq")
        gs(repo, "find", "*")
        gs(repo, "log", "README")
        gs(repo, "watch", "add", str(repo))
        gs(repo, "remote", "add", "r", (tmp_path / "remote").as_uri())
        gs(repo, "push")
        gs(repo, "list", "--remote", "r")
        auto.write_state(str(store_dir), "r", {"last": 0})  # what snapshot.autoPush keeps
    finally:
        os.umask(old)
        gs(repo, "watch", "stop")
    loose = []
    # and the cache of what the remote holds (a copy of the snapshot records)
    remote_cache = Path(os.environ["XDG_CACHE_HOME"]) / "git-snapshot"
    assert stat.S_IMODE(remote_cache.stat().st_mode) == 0o700
    for top, dirs, files in [*os.walk(store_dir), *os.walk(remote_cache)]:
        for name in dirs:
            if stat.S_IMODE(os.lstat(os.path.join(top, name)).st_mode) != 0o700:
                loose.append(os.path.join(top, name))
        for name in files:
            if stat.S_IMODE(os.lstat(os.path.join(top, name)).st_mode) != 0o600:
                loose.append(os.path.join(top, name))
    assert loose == [], [os.path.relpath(p, store_dir) for p in loose]


@pytest.mark.parametrize(
    "argv", [["watch", "add"], ["watch", "remove"], ["watch", "status", "somewhere"]]
)
def test_watch_usage_errors_exit_2(repo: Path, argv: list[str]) -> None:
    """DESIGN: exit status 2 on a usage error (watch add/remove take a PATH, the others none)."""
    ran = gs(repo, *argv, rc=2)
    assert len(ran.err_lines) == 1 and "git snapshot watch" in ran.err, ran.err


def test_clean_old_backups_keeps_backups_and_leaves_repositories_alone(
    repo: Path, tmp_path: Path
) -> None:
    """clean_old_backups(keep=N) keeps the newest N backups of each backup name: a restore's
    own pre-restore snapshot does not push the user's backup out, and the snapshots of git
    repositories (the hooks', sharing the store) are not backups it may thin."""
    import git_snapshot

    gs(repo)
    gs(repo)
    data = tmp_path / "data"
    data.mkdir()
    for i in range(3):
        (data / "f").write_text(f"v{i}\n")
        git_snapshot.create_backup("mine", data)
    git_snapshot.restore_backup("mine", 2, data)  # takes pre-restore snapshot 4
    git_snapshot.clean_old_backups(keep=1)
    assert [b.id for b in git_snapshot.list_backups("mine")] == [3, 4]
    assert [s["id"] for s in json.loads(gs(repo, "list", "--json").out)] == [1, 2]
    git_snapshot.restore_backup("mine", "latest", data)
    assert (data / "f").read_text() == "v2\n"


def test_api_names_an_unknown_backup(tmp_path: Path) -> None:
    import git_snapshot

    with pytest.raises(UserError, match="no backup named 'nope'"):
        git_snapshot.restore_backup("nope", "latest", tmp_path / "out")


def test_restore_lists_a_mode_change(repo: Path) -> None:
    """DESIGN: restore writes files back with their modes and --dry-run lists what would
    change: a file whose mode alone differs (chmod +x) is an update, as diff says ('T')."""
    (repo / "run.sh").write_text("echo\n")
    gs(repo)
    (repo / "run.sh").chmod(0o755)
    assert "would update run.sh" in gs(repo, "restore", "1", "--dry-run").out
    assert "update run.sh" in gs(repo, "restore", "1").out
    assert stat.S_IMODE((repo / "run.sh").stat().st_mode) == 0o644


def test_list_with_nothing_selected_does_not_say_there_are_no_snapshots(repo: Path) -> None:
    gs(repo)
    assert gs(repo, "list", "-n", "0").out == ""
    assert "no snapshots yet" not in gs(repo, "list", "--since", "2099-01-01").out


@pytest.mark.parametrize("finder", ["verify", "restore"])
def test_a_missing_pack_does_not_spread_into_the_next_snapshot(
    repo: Path, store_dir: Path, tmp_path: Path, finder: str
) -> None:
    """DESIGN: damage never spreads: an object found missing is recorded and the next snapshot
    stores it afresh. When a read finds a whole pack gone, every object in it is missing, not
    only the first one met (the snapshot's top folder): the file below it was reused."""
    gs(repo)
    (repo / "new.txt").write_text("only in the second snapshot's pack\n")
    gs(repo)
    newest = max((store_dir / "packs").glob("*.pack"), key=lambda p: p.stat().st_mtime_ns)
    newest.unlink()
    if finder == "verify":
        gs(repo, "verify", rc=1)
    else:
        gs(repo, "restore", "2", "--to", str(tmp_path / "out"), rc=1)
    gs(repo)
    ran = gs(repo, "verify", "3", rc=None)
    assert ran.rc == 0, ran.out + ran.err
