"""RED32 C1: a prune or forget dropping a snapshot while a restore of it was starting made the
restore say ``DAMAGED .: object ... is missing from the index`` and send the user to verify;
the store was fine. The restore chose the snapshot before it took the store's shared lock, so
a gc in between deleted its objects. export and verify ID chose the same way. Now each holds
the lock from the choice on: a gc meanwhile waits (here: a gc that would not wait is skipped),
and what was chosen is read whole."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from clihelpers import gs

from git_snapshot.commands import export as export_cmd
from git_snapshot.commands import restore as restore_cmd
from git_snapshot.commands import verify as verify_cmd
from git_snapshot.store import Store
from git_snapshot.store.gc import gc


def _two_snapshots(repo: Path) -> None:
    (repo / "a.txt").write_text("first\n")
    gs(repo, "create")
    (repo / "a.txt").write_text("second\n")
    (repo / "b.txt").write_text("new\n")
    gs(repo, "create")


def _forget_first_and_gc(store_dir: Path) -> None:
    """What a concurrent `prune --keep-last 1` does, at the worst moment: snapshot 1 is
    forgotten and a gc reclaims its objects (unless a reader holds the store)."""
    with Store(store_dir) as other:
        first = [s for s in other.snapshots() if s.id == 1]
        other.forget(first)
        gc(other, wait=False)


def _after_choice(
    monkeypatch: pytest.MonkeyPatch, module: object, name: str, run: Callable[[], None]
) -> None:
    real = getattr(module, name)

    def hooked(*args: object, **kwargs: object) -> object:
        run()
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, hooked)


def test_restore_reads_what_it_chose(
    repo: Path,
    store_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _two_snapshots(repo)
    _after_choice(monkeypatch, restore_cmd, "prefetch", lambda: _forget_first_and_gc(store_dir))
    out = tmp_path / "out"
    rc = restore_cmd.cmd_restore(cwd=str(repo), snapshot_id="1", to=str(out))
    captured = capsys.readouterr()
    assert rc == 0, captured
    assert "DAMAGED" not in captured.out + captured.err
    assert (out / "a.txt").read_text() == "first\n"
    assert not (out / "b.txt").exists()
    assert "1" not in [line.split()[0] for line in gs(repo, "list").splitlines()[1:]]
    gs(repo, "verify", "--read-data")


def test_restore_in_place_reads_what_it_chose(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _two_snapshots(repo)
    _after_choice(monkeypatch, restore_cmd, "prefetch", lambda: _forget_first_and_gc(store_dir))
    rc = restore_cmd.cmd_restore(cwd=str(repo), snapshot_id="1", paths=["a.txt"])
    captured = capsys.readouterr()
    assert rc == 0, captured
    assert (repo / "a.txt").read_text() == "first\n"
    gs(repo, "verify", "--read-data")


def test_export_reads_what_it_chose(
    repo: Path,
    store_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _two_snapshots(repo)
    _after_choice(monkeypatch, export_cmd, "prefetch", lambda: _forget_first_and_gc(store_dir))
    rc = export_cmd.cmd_export(cwd=str(repo), snapshot_id="1", file=str(tmp_path / "x.tar"))
    captured = capsys.readouterr()
    assert rc == 0, captured
    assert "DAMAGED" not in captured.out + captured.err


def test_verify_id_checks_what_it_chose(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _two_snapshots(repo)
    _after_choice(monkeypatch, verify_cmd, "verify", lambda: _forget_first_and_gc(store_dir))
    rc = verify_cmd.cmd_verify(cwd=str(repo), ids=["1"])
    captured = capsys.readouterr()
    assert rc == 0, captured
    assert "DAMAGED" not in captured.out + captured.err


def test_the_gc_that_waited_reclaims_afterwards(repo: Path, store_dir: Path) -> None:
    _two_snapshots(repo)
    _forget_first_and_gc(store_dir)  # no reader: it runs
    r = gs(repo, "restore", "1", "--to", "elsewhere", rc=1)
    assert "no snapshot 1" in r.err and "DAMAGED" not in r.out + r.err


def test_the_api_restores_and_verifies_what_it_chose(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from git_snapshot import api

    data = tmp_path / "data"
    data.mkdir()
    made = []
    for text in ("first\n", "second\n", "third\n"):
        (data / "a.txt").write_text(text)
        made.append(api.create_backup("data", data).id)

    def forgets(number: int) -> Callable[[], None]:
        def run() -> None:
            with Store(store_dir) as other:
                other.forget([s for s in other.snapshots("data") if s.id == number])
                gc(other, wait=False)

        return run

    _after_choice(monkeypatch, api, "Restorer", forgets(made[0]))
    out = tmp_path / "out"
    api.restore_backup("data", made[0], out)
    assert (out / "a.txt").read_text() == "first\n"
    _after_choice(monkeypatch, api, "verify", forgets(made[1]))
    assert api.verify_backup("data", made[1]).valid
