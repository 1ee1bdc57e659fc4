"""Red team (session 15, RED13): remotes against kills, a damaged local cache, a hostile
remote and a full disk. Real CLI, file:// remotes (the S3 ones: tests/test_remote_s3.py)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clihelpers import gs
from conftest import init_repo


@pytest.fixture(autouse=True)
def _config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(Path(os.environ["HOME"]) / "config"))


def kept_docs(kind: str) -> list[Path]:
    """The remote documents the cache keeps (of *kind*: index, snapshots)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path(os.environ["HOME"]) / ".cache")
    return sorted(base.glob(f"git-snapshot/remotes/*/docs/{kind}/*.json"))


def pushed(tmp_path: Path, n: int) -> Path:
    """A repository with *n* snapshots (each a file of its own), pushed to remote r."""
    repo = init_repo(tmp_path / "proj")
    for i in range(n):  # each snapshot in a pack of its own, needing no other
        for old in repo.glob("f*"):
            old.unlink()
        (repo / f"f{i}").write_bytes(os.urandom(50_000))
        gs(repo, "-m", f"s{i}")
    gs(repo, "remote", "add", "r", f"file://{tmp_path}/remote")
    gs(repo, "push")
    return repo


@pytest.mark.slow
@pytest.mark.parametrize("damage", [None, b"", b'{"record": '])
def test_a_damaged_cached_document_never_makes_prune_delete_a_live_pack(
    tmp_path: Path, damage: bytes | None
) -> None:
    repo = pushed(tmp_path, 2)
    gs(repo, "list", "--remote", "r")  # the cache's index holds both
    docs = kept_docs("snapshots")
    assert len(docs) == 2, docs
    if damage is not None:
        docs[0].write_bytes(damage)  # a crash after the cache's non-durable write, a bad disk
    packs = sorted(os.listdir(tmp_path / "remote" / "packs"))
    gs(repo, "remote", "prune", "r")
    assert sorted(os.listdir(tmp_path / "remote" / "packs")) == packs
    assert "ok: remote r: 2 snapshots" in gs(repo, "verify", "--remote", "r", "--read-data")
    ids = [s["id"] for s in json.loads(gs(repo, "list", "--remote", "r", "--json"))]
    assert ids == [1, 2]


LOCK_AND_DIE = """
import os, signal, sys
from git_snapshot.store.remote import config, repo
remote = repo.Remote(config.get("r"))
with remote.lock(exclusive=sys.argv[1] == "prune"):
    os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.slow
@pytest.mark.parametrize("what", ["prune", "push"])
def test_a_lock_left_by_a_killed_process_on_this_machine_blocks_nothing(
    tmp_path: Path, what: str
) -> None:
    repo = pushed(tmp_path, 1)
    died = subprocess.run([sys.executable, "-c", LOCK_AND_DIE, what], capture_output=True)
    assert died.returncode == -signal.SIGKILL, died.stderr
    assert len(os.listdir(tmp_path / "remote" / "locks")) == 1  # its lock stays
    (repo / "g").write_text("more\n")
    gs(repo, "-m", "after")
    # a lock that blocked would end in 'busy' (exit 1) after 30 s of waiting, since the
    # lock is stale only after 30 min (no bound on the wall clock: load stretches both)
    assert "pushed 1 snapshot(s)" in gs(repo, "push")
    gs(repo, "remote", "prune", "r")  # a dead push's lock neither
    assert os.listdir(tmp_path / "remote" / "locks") == []  # prune deleted the dead lock


def _bytes(*folders: Path) -> int:
    """The bytes of the files under *folders* now (files may come and go meanwhile)."""
    total = 0
    for folder in folders:
        for top, _dirs, files in os.walk(folder):
            for name in files:
                with contextlib.suppress(FileNotFoundError):
                    total += os.lstat(os.path.join(top, name)).st_size
    return total


def killed_at(
    env: dict[str, str], cwd: Path, folders: list[Path], at_bytes: float, *args: str
) -> int:
    """``git snapshot ARGS`` SIGKILLed as soon as the files under *folders* hold *at_bytes*
    (its progress, polled every few ms) if still running, git and the git-snapshot it runs
    alike (its process group: killing git alone left the git-snapshot child running the push
    or pull to its end); its exit code. Progress, not time: under a varying load a moment
    timed as a fraction of an earlier run fell after the run's end (load 11-14: 2 kills of 6)."""
    from clihelpers import VENV_BIN

    path = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    proc = subprocess.Popen(
        ["git", "snapshot", *args],
        cwd=cwd,
        env={**os.environ, **env, "PATH": path},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while proc.poll() is None:
        if _bytes(*folders) >= at_bytes or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.002)
    assert time.monotonic() <= deadline, f"git snapshot {' '.join(args)} ran 300 s"
    rc = proc.wait()
    _group_gone(proc.pid)
    return rc


def _group_gone(pgid: int) -> None:
    """Wait until no live process of group *pgid* is left: the leader's wait does not wait
    for the others a SIGKILL reaches (the git-snapshot child ended a file in the store's tmp
    after git was reaped, and rmtree of the store met it: 'Directory not empty', CI 53b).
    Zombies are not waited for (nothing reaps the reparented ones here)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        live = False
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != b"Z":
                live = True
                break
        if not live:
            return
        time.sleep(0.005)
    raise AssertionError(f"process group {pgid} still running 30 s after its SIGKILL")


@pytest.mark.slow
def test_push_and_pull_killed_at_sampled_moments_lose_nothing(tmp_path: Path) -> None:
    """SIGKILL at points spread over a push (and then a pull on another machine), by the
    bytes written so far: the next one completes, the remote verifies with every snapshot,
    the pulled store holds them all."""
    from remotehelpers import machine
    from remotehelpers import on

    repo = init_repo(tmp_path / "proj")
    for i in range(4):
        (repo / f"f{i}").write_bytes(os.urandom(3_000_000))
        (repo / f"t{i}.txt").write_text(f"text {i}\n" * 5000)
        gs(repo, "-m", f"s{i}")
    gs(repo, "remote", "add", "r", f"file://{tmp_path}/remote")
    me: dict[str, str] = {}
    remote = tmp_path / "remote"
    gs(repo, "push")
    whole = _bytes(remote / "packs")
    rcs = []
    for n in range(6):
        # each killed push from an empty remote: the whole push's work ahead of it
        for kind in ("packs", "index", "snapshots", ".tmp"):
            if (remote / kind).is_dir():
                for p in (remote / kind).iterdir():
                    p.unlink()
        part = whole * (0.1 + 0.15 * n)
        rcs.append(killed_at(me, repo, [remote / "packs", remote / ".tmp"], part, "push"))
        (repo / f"n{n}").write_text(f"new {n}\n")  # and the store moves on meanwhile
        gs(repo, "-m", f"n{n}")
    assert rcs.count(-signal.SIGKILL) >= 3, rcs
    gs(repo, "push")
    assert "ok: remote r: 10 snapshots" in gs(repo, "verify", "--remote", "r", "--read-data")
    key = Path(os.environ["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "r.key"
    other = machine(tmp_path, "m2")
    store = Path(other["GIT_SNAPSHOT_STORE"])
    on(other, tmp_path, "remote", "add", "r", f"file://{remote}", "--key", str(key))
    on(other, tmp_path, "pull", "r")
    whole = _bytes(store)
    rcs = []
    for n in range(6):  # each from an empty store, as the pushes above
        shutil.rmtree(store)
        os.mkdir(store)
        part = whole * (0.1 + 0.15 * n)
        rcs.append(killed_at(other, tmp_path, [store], part, "pull", "r"))
    assert rcs.count(-signal.SIGKILL) >= 3, rcs
    on(other, tmp_path, "pull", "r")
    assert "ok" in on(other, tmp_path, "verify", "--read-data")
    listed = json.loads(on(other, tmp_path, "list", "--all", "--json"))
    assert len(listed) == 10


@pytest.mark.slow
@pytest.mark.parametrize("left", ["index", "index+snapshots"])
def test_a_sync_killed_while_it_forgets_what_the_remote_lost_never_fools_the_next_push(
    tmp_path: Path, left: str
) -> None:
    """What the remote lost (another machine's prune, a deleted bucket prefix) is forgotten by
    the cache's sync: its kept documents removed, then the cache's index rebuilt. A sync
    killed between the two left an index that still placed objects in packs the remote no
    longer had, and no kept document to show it: the next push sent nothing for them, wrote
    snapshot documents naming the missing packs and ended with 0 (seen in a loaded run of
    the kill test above: 8 packs missing after a push that said it was done)."""
    repo = pushed(tmp_path, 3)
    gs(repo, "list", "--remote", "r")  # the cache keeps every document and has them entered
    remote = tmp_path / "remote"
    for kind in ("packs", "index", "snapshots"):  # the remote lost everything
        for p in (remote / kind).iterdir():
            p.unlink()
    for kind in left.split("+"):  # the killed sync had removed these kept documents
        for doc in kept_docs(kind):
            doc.unlink()
    gs(repo, "push")
    assert "ok: remote r: 3 snapshots" in gs(repo, "verify", "--remote", "r", "--read-data")


PULL_KILLED_BEFORE_ROWS = """
import os, signal, sys
from git_snapshot.cli import main
from git_snapshot.store.index import Index

def killed(self, packs):
    os.kill(os.getpid(), signal.SIGKILL)  # every pack in place, no row entered

Index.enter_incoming = killed
sys.exit(main(["pull", "r"]))
"""


def pull_killed_before_rows(tmp_path: Path) -> dict[str, str]:
    """Another machine's first pull of remote r (pushed), SIGKILLed with every pack in place
    and no row entered; that machine's environment."""
    from remotehelpers import machine
    from remotehelpers import on

    key = Path(os.environ["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "r.key"
    other = machine(tmp_path, "m2")
    on(other, tmp_path, "remote", "add", "r", f"file://{tmp_path}/remote", "--key", str(key))
    died = subprocess.run(
        [sys.executable, "-c", PULL_KILLED_BEFORE_ROWS],
        cwd=tmp_path,
        env={**os.environ, **other},
        capture_output=True,
    )
    assert died.returncode == -signal.SIGKILL, died.stderr
    return other


@pytest.mark.slow
def test_a_first_pull_killed_before_its_rows_is_resumed_by_the_next(tmp_path: Path) -> None:
    """A first pull puts every pack in place, then enters their rows: killed between, it left a
    store whose index lists no packs over packs, which every command refused as a lost index
    ('rebuild the index ... git snapshot repair'), the next pull too. The pull notes its packs
    in the index before putting them in place (Index.note_incoming): the store opens, and the
    next pull enters them. (An index that lists no packs for another reason is still refused:
    test_repair, test_red16_index.)"""
    from remotehelpers import on

    repo = pushed(tmp_path, 2)
    other = pull_killed_before_rows(tmp_path)
    store = Path(other["GIT_SNAPSHOT_STORE"])
    assert len(list((store / "packs").glob("*.pack"))) == 2
    assert json.loads(on(other, tmp_path, "list", "--all", "--json")) == []
    on(other, tmp_path, "pull", "r")
    assert "ok" in on(other, tmp_path, "verify", "--read-data")
    assert len(json.loads(on(other, tmp_path, "list", "--all", "--json"))) == 2
    assert repo.exists()


HOSTILE_NAMES = ["x\x1b]0;owned\x07\x1b[2J", "two\nlines", "a\rb"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["snapshots", "index", "locks"])
def test_a_hostile_listing_name_reaches_the_terminal_shown_not_raw(
    tmp_path: Path, kind: str
) -> None:
    repo = pushed(tmp_path, 1)
    for name in HOSTILE_NAMES:
        (tmp_path / "remote" / kind / name).write_bytes(b"GSE1" + os.urandom(100))
    for args in (
        ["list", "--remote", "r"],
        ["push"],
        ["pull", "r"],
        ["remote", "prune", "r"],
        ["verify", "--remote", "r"],
    ):
        ran = gs(repo, *args, rc=None)
        for text in (ran.out, ran.err):
            assert "\x1b" not in text and "\r" not in text and "\x07" not in text, (args, text)
        assert len(ran.err.splitlines()) <= 1, (args, ran.err)


@pytest.mark.slow
def test_one_damaged_snapshot_document_leaves_every_other_snapshot_reachable(
    tmp_path: Path,
) -> None:
    """A flipped or foreign object in snapshots/ (a bad disk, junk) made every remote command
    fail with the same line, verify --remote too (which that line told the user to run)."""
    repo = pushed(tmp_path, 2)
    snaps = sorted((tmp_path / "remote" / "snapshots").iterdir())
    data = bytearray(snaps[0].read_bytes())
    data[len(data) // 2] ^= 0x01
    snaps[0].write_bytes(bytes(data))
    (tmp_path / "remote" / "snapshots" / ("0" * 32)).write_bytes(b"GSE1" + os.urandom(64))
    shutil.rmtree(kept_docs("snapshots")[0].parents[3])  # the cache: the remote as it is now
    ran = gs(repo, "list", "--remote", "r", "--json")
    assert len(json.loads(ran.out)) == 1 and len(ran.err_lines) == 1
    assert "2 snapshot document(s)" in ran.err and "verify --remote r" in ran.err
    (good,) = json.loads(ran.out)
    gs(repo, "restore", "--remote", "r", str(good["id"]), "--to", str(tmp_path / "out"))
    assert (tmp_path / "out" / f"f{good['id'] - 1}").stat().st_size == 50_000
    ran = gs(repo, "verify", "--remote", "r", rc=1)
    assert ran.out.count("DAMAGED remote object snapshots/") == 2, ran.out
    packs = sorted(os.listdir(tmp_path / "remote" / "packs"))
    ran = gs(repo, "remote", "prune", "r", rc=1)  # what the damaged ones need is unknown
    assert "nothing pruned" in ran.err and len(ran.err_lines) == 1
    assert sorted(os.listdir(tmp_path / "remote" / "packs")) == packs
    (repo / "h").write_text("new\n")
    gs(repo, "-m", "new")
    ran = gs(repo, "push", rc=1)  # the new snapshot goes, the flipped one is written again
    assert "pushed 2 snapshot(s)" in ran.out and "1 snapshot document(s)" in ran.err
    ran = gs(repo, "pull", "r", rc=1)  # the junk one is still named
    assert "1 snapshot document(s) do not open" in ran.err


@pytest.mark.slow
def test_a_pull_onto_a_full_disk_says_so_in_one_line_and_the_next_completes(
    tmp_path: Path,
) -> None:
    from fullfs import fill
    from fullfs import small_fs
    from remotehelpers import machine
    from remotehelpers import on

    repo = init_repo(tmp_path / "proj")
    for i in range(3):
        (repo / f"f{i}").write_bytes(os.urandom(2_000_000))
        gs(repo, "-m", f"s{i}")
    gs(repo, "remote", "add", "r", f"file://{tmp_path}/remote")
    gs(repo, "push")
    key = Path(os.environ["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "r.key"
    with small_fs(tmp_path) as mnt:
        other = machine(tmp_path, "m2")
        store = mnt / "store"
        store.mkdir()
        other["GIT_SNAPSHOT_STORE"] = str(store)
        other["XDG_CACHE_HOME"] = str(mnt / "cache")
        on(other, tmp_path, "remote", "add", "r", f"file://{tmp_path}/remote", "--key", str(key))
        on(other, tmp_path, "list", "--remote", "r", "--all")  # the cache made, no pack fetched
        filler = fill(mnt, leave=3_000_000)  # room for one pack, not three
        restore = ("restore", "--remote", "r", "--repo", str(repo), "3", "--to", str(mnt / "o"))
        for args in (("pull", "r"), restore):
            ran = on(other, tmp_path, *args, rc=1)
            assert len(ran.err_lines) == 1 and "space" in ran.err, ran.err
        filler.unlink()
        leftover = [p for p in mnt.rglob("*") if ".fetch" in p.name or ".copy" in p.name]
        assert leftover == []
        assert "pulled 3 snapshot(s)" in on(other, tmp_path, "pull", "r")
        assert "ok" in on(other, tmp_path, "verify", "--read-data")


@pytest.mark.slow
def test_two_machines_pushing_at_once_while_a_prune_runs_lose_nothing(tmp_path: Path) -> None:
    from clihelpers import VENV_BIN
    from remotehelpers import machine
    from remotehelpers import on

    url = f"file://{tmp_path}/remote"
    repo = init_repo(tmp_path / "proj")
    (repo / "seed").write_text("seed\n")
    gs(repo, "-m", "seed")
    gs(repo, "remote", "add", "r", url)
    gs(repo, "push")
    key = Path(os.environ["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "r.key"
    envs, repos = [], []
    for m in ("m1", "m2"):
        env = machine(tmp_path, m)
        on(env, tmp_path, "remote", "add", "r", url, "--key", str(key))
        mrepo = init_repo(tmp_path / m / "proj")
        for i in range(3):
            (mrepo / f"f{i}").write_bytes(os.urandom(1_500_000))
            on(env, mrepo, "-m", f"{m} {i}")
        envs.append(env)
        repos.append(mrepo)
    path = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    procs = [
        subprocess.Popen(
            ["git", "snapshot", *args],
            cwd=cwd,
            env={**os.environ, **env, "PATH": path},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for env, cwd, args in (
            (envs[0], repos[0], ("push",)),
            ({}, repo, ("remote", "prune", "r")),  # unfinished uploads are not its to delete
            (envs[1], repos[1], ("push",)),
        )
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    assert "ok: remote r: 7 snapshots" in gs(repo, "verify", "--remote", "r", "--read-data")
    third = machine(tmp_path, "m3")
    on(third, tmp_path, "remote", "add", "r", url, "--key", str(key))
    assert "pulled 7 snapshot(s)" in on(third, tmp_path, "pull", "r")
    assert "ok" in on(third, tmp_path, "verify", "--read-data")


@pytest.mark.slow
def test_push_replaces_a_remote_document_that_does_not_open(tmp_path: Path) -> None:
    """A snapshot (or pack index) document damaged on the remote stayed damaged: push saw its
    name taken and counted it 'already there', so no other machine could read that snapshot."""
    repo = pushed(tmp_path, 2)
    for kind in ("snapshots", "index"):
        doc = sorted((tmp_path / "remote" / kind).iterdir())[0]
        data = bytearray(doc.read_bytes())
        data[len(data) // 2] ^= 0x01
        doc.write_bytes(bytes(data))
    shutil.rmtree(kept_docs("snapshots")[0].parents[3])  # the cache: the remote as it is now
    ran = gs(repo, "push")
    assert ran.err == "" and "pushed 1 snapshot(s)" in ran.out, ran
    shutil.rmtree(kept_docs("snapshots")[0].parents[3])
    ran = gs(repo, "list", "--remote", "r", "--json")
    assert ran.err == "" and len(json.loads(ran.out)) == 2
    assert "ok: remote r: 2 snapshots" in gs(repo, "verify", "--remote", "r", "--read-data")


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncate", "swap", "swap-docs"])
def test_restore_from_a_cut_or_swapped_remote_refuses_in_one_line(
    tmp_path: Path, damage: str
) -> None:
    repo = pushed(tmp_path, 2)
    rem = tmp_path / "remote"
    if damage == "truncate":
        for p in (rem / "packs").iterdir():
            p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    else:
        kind = "packs" if damage == "swap" else "snapshots"
        a, b = sorted((rem / kind).iterdir())
        da, db = a.read_bytes(), b.read_bytes()
        a.write_bytes(db)
        b.write_bytes(da)
    shutil.rmtree(kept_docs("snapshots")[0].parents[3])  # the cache: the remote as it is now
    out = tmp_path / "out"
    for n in ("1", "2"):
        ran = gs(repo, "restore", "--remote", "r", n, "--to", str(out / n), rc=None)
        if damage != "swap-docs":
            ran2 = gs(repo, "export", "--remote", "r", n, str(out / f"{n}.tar"), rc=1)
            assert "verify --remote r --read-data" in ran2.err_lines[-1], ran2.err
        assert ran.rc != 0 and len(ran.err_lines) >= 1, ran
        if damage != "swap-docs":  # damaged packs: the remote's advice, not the local store's
            assert "verify --remote r --read-data" in ran.err_lines[-1], ran.err
        assert not (out / n).exists() or not any((out / n).iterdir()), os.listdir(out / n)
    ran = gs(repo, "verify", "--remote", "r", "--read-data", rc=1)
    assert "DAMAGED remote object" in ran.out
