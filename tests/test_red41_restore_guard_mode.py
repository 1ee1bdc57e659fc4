"""Session 41 fixB, finding 1 (left open by RED40 E1): an in-place restore overwrote a mode
a tool gave a file after the pre-restore snapshot was taken (``chmod +x`` while the restore
ran: the same bytes, the same size and mtime, only the ctime moves). The restore's guard
compared the content alone, so the file was written over, or given the snapshot's mode, and
the mode it had was in no snapshot. Now a file whose mode is not the pre-restore snapshot's
is left as it is and named (``NOT WRITTEN path: changed while the restore ran``), the restore
exits 1, and run again, its new pre-restore snapshot holds the mode; unless the mode is what
the restore gives it anyway (nothing of it is lost).

The chmod is a real process, run at a known point: right after the pre-restore snapshot
(worktree.take returns), or while the restore reads the file it only gives its mode.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clihelpers import gs
from hookhelpers import after_pre_restore
from hookhelpers import install

from git_snapshot.cli import main
from git_snapshot.store import restorer
from git_snapshot.store.restore_guard import Guard

CHANGED = "changed while the restore ran: run it again"


def _chmod(repo: Path, mode: str, *paths: str) -> Callable[[], None]:
    """A tool's chmod, by another process."""

    def run() -> None:
        subprocess.run(["chmod", mode, *paths], cwd=repo, check=True)

    return run


def _chmod_once_after(
    monkeypatch: pytest.MonkeyPatch,
    owner: object,
    name: str,
    chmod: Callable[[], None],
    when: Callable[..., bool] = lambda *args, **kwargs: True,
) -> list[bool]:
    """*owner*.*name* works as ever; *chmod* runs once, right after the first call *when*
    says yes to (given the call's arguments). Returns [whether it ran]."""
    real = getattr(owner, name)
    done = [False]

    def once(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        if not done[0] and when(*args, **kwargs):
            done[0] = True
            chmod()
        return out

    monkeypatch.setattr(owner, name, once)
    return done


def _restore(repo: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    rc = main(["-C", str(repo), "restore", *args])
    out = capsys.readouterr()
    return rc, out.out + out.err


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _pre(said: str) -> str:
    """The pre-restore snapshot a restore's line names."""
    return said.rsplit("what was there before is in snapshot ", 1)[1].split()[0].rstrip(",;")


def _cache(repo: Path) -> None:
    """Hooks in; snapshot 1 holds a.txt; then a folder cache/ (755, holding x.o) it lacks."""
    install(repo)
    (repo / "a.txt").write_text("a\n")
    gs(repo, "create")  # 1
    (repo / "cache").mkdir()
    (repo / "cache").chmod(0o755)
    (repo / "cache" / "x.o").write_text("x\n")


def _bin(repo: Path) -> None:
    """Hooks in; snapshot 1 holds bin/ (755) and bin/a.txt "a old"; then a.txt edited."""
    install(repo)
    (repo / "bin").mkdir()
    (repo / "bin").chmod(0o755)
    (repo / "bin" / "a.txt").write_text("a old\n")
    gs(repo, "create")  # 1
    (repo / "bin" / "a.txt").write_text("a edit\n")


def _held_mode(repo: Path, tmp_path: Path, snap: str, rel: str) -> int:
    """The mode snapshot *snap* holds *rel* at (restored elsewhere)."""
    out = tmp_path / f"out-{snap}"
    gs(repo, "restore", snap, rel, "--to", str(out))
    return _mode(out / rel)


def test_a_file_chmodded_after_the_pre_restore_snapshot_is_not_written_over(
    repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """z.txt, edited, then made executable while the restore runs: kept, bytes and mode.
    y.txt, made executable as snapshot 1 has it: written, its mode is what the restore
    gives it anyway."""
    install(repo)
    (repo / "z.txt").write_text("z old\n")
    (repo / "y.txt").write_text("y old\n")
    (repo / "y.txt").chmod(0o755)
    gs(repo, "create")  # 1
    (repo / "z.txt").write_text("z edit\n")
    (repo / "y.txt").write_text("y edit\n")
    (repo / "y.txt").chmod(0o644)
    after_pre_restore(monkeypatch, _chmod(repo, "755", "z.txt", "y.txt"))
    rc, said = _restore(repo, capsys, "1")
    assert rc == 1, said
    assert f"NOT WRITTEN z.txt: {CHANGED}" in said
    assert (repo / "z.txt").read_text() == "z edit\n"
    assert _mode(repo / "z.txt") == 0o755
    assert "NOT WRITTEN y.txt" not in said
    assert (repo / "y.txt").read_text() == "y old\n"
    assert _mode(repo / "y.txt") == 0o755
    again = gs(repo, "restore", "1")
    assert (repo / "z.txt").read_text() == "z old\n"
    assert _mode(repo / "z.txt") == 0o644
    assert _held_mode(repo, tmp_path, _pre(again.out), "z.txt") == 0o755


def test_a_chmod_the_restore_would_undo_is_kept(
    repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """run.sh holds snapshot 1's bytes: the restore only gives it its mode back (644), which
    took away the +x a tool gave it after the pre-restore snapshot."""
    install(repo)
    (repo / "run.sh").write_text("echo hi\n")
    (repo / "a.txt").write_text("a old\n")
    gs(repo, "create")  # 1
    (repo / "a.txt").write_text("a edit\n")
    after_pre_restore(monkeypatch, _chmod(repo, "+x", "run.sh"))
    rc, said = _restore(repo, capsys, "1")
    assert rc == 1, said
    assert f"NOT WRITTEN run.sh: {CHANGED}" in said
    assert _mode(repo / "run.sh") == 0o755
    assert (repo / "a.txt").read_text() == "a old\n"
    again = gs(repo, "restore", "1")
    assert _mode(repo / "run.sh") == 0o644
    assert _held_mode(repo, tmp_path, _pre(again.out), "run.sh") == 0o755


def test_a_chmod_while_the_restore_reads_the_file_is_kept(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """run.sh holds snapshot 1's bytes with mode 600 (the pre-restore snapshot's); a tool
    makes it 700 while the restore reads it (seconds, for a big file), before the restore
    gives it 644: the 700 is kept."""
    install(repo)
    (repo / "run.sh").write_text("echo hi\n")
    gs(repo, "create")  # 1
    (repo / "run.sh").chmod(0o600)

    def reads_it(name: bytes, st: os.stat_result, dir_fd: int | None = None) -> bool:
        return name == b"run.sh" and dir_fd is not None

    done = _chmod_once_after(
        monkeypatch, restorer, "read_at", _chmod(repo, "700", "run.sh"), reads_it
    )
    rc, said = _restore(repo, capsys, "1", "run.sh")
    assert done[0], said
    assert rc == 1, said
    assert f"NOT WRITTEN run.sh: {CHANGED}" in said
    assert _mode(repo / "run.sh") == 0o700
    gs(repo, "restore", "1", "run.sh")
    assert _mode(repo / "run.sh") == 0o644


def test_delete_keeps_a_file_chmodded_after_its_snapshot(
    repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    install(repo)
    (repo / "a.txt").write_text("a\n")
    gs(repo, "create")  # 1
    (repo / "tool.sh").write_text("echo tool\n")
    (repo / "gone.txt").write_text("an extra nothing touches\n")
    after_pre_restore(monkeypatch, _chmod(repo, "+x", "tool.sh"))
    rc, said = _restore(repo, capsys, "1", "--delete")
    assert rc == 1, said
    assert f"NOT WRITTEN tool.sh: {CHANGED}" in said
    assert _mode(repo / "tool.sh") == 0o755
    assert not (repo / "gone.txt").exists()
    again = gs(repo, "restore", "1", "--delete")
    assert not (repo / "tool.sh").exists()
    assert _held_mode(repo, tmp_path, _pre(again.out), "tool.sh") == 0o755


def test_delete_keeps_a_folder_chmodded_after_its_snapshot(
    repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A folder --delete removes whole takes its mode with it: one a tool made private (700)
    after the pre-restore snapshot is kept, with what it holds, and named."""
    _cache(repo)
    after_pre_restore(monkeypatch, _chmod(repo, "700", "cache"))
    rc, said = _restore(repo, capsys, "1", "--delete")
    assert rc == 1, said
    assert f"NOT WRITTEN cache: {CHANGED}" in said
    assert _mode(repo / "cache") == 0o700
    assert (repo / "cache" / "x.o").read_text() == "x\n"
    gs(repo, "restore", "1", "--delete")
    assert not (repo / "cache").exists()


def test_delete_keeps_a_folder_chmodded_as_the_restore_looks_at_it(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The chmod lands between the guard's look at the folder and the restore opening it to
    empty it (and give itself u+rwx in it): kept as well."""
    _cache(repo)

    def looks_at_cache(self: Guard, rel: bytes, *args: Any) -> bool:
        return rel == b"cache"

    done = _chmod_once_after(
        monkeypatch, Guard, "why", _chmod(repo, "700", "cache"), looks_at_cache
    )
    rc, said = _restore(repo, capsys, "1", "--delete")
    assert done[0], said
    assert rc == 1, said
    assert f"NOT WRITTEN cache: {CHANGED}" in said
    assert _mode(repo / "cache") == 0o700
    assert (repo / "cache" / "x.o").read_text() == "x\n"


@pytest.mark.parametrize("mode", [0o700, 0o500])
def test_a_folder_chmodded_after_the_pre_restore_snapshot_keeps_its_mode(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], mode: int
) -> None:
    """bin/ is written into (its file restored) but keeps the mode a tool gave it after the
    pre-restore snapshot, named; 500: one the user may not write into, which the restore
    opens up to write (u+rwx) and gives back its mode after."""
    _bin(repo)
    after_pre_restore(monkeypatch, _chmod(repo, f"{mode:o}", "bin"))
    rc, said = _restore(repo, capsys, "1")
    assert rc == 1, said
    assert f"NOT WRITTEN bin: {CHANGED}" in said
    assert "update bin\n" not in said
    assert (repo / "bin" / "a.txt").read_text() == "a old\n"
    assert _mode(repo / "bin") == mode
    gs(repo, "restore", "1")
    assert _mode(repo / "bin") == 0o755


def test_a_folder_chmodded_while_the_restore_writes_into_it_keeps_its_mode(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The folder's mode is given after its files are written (seconds, in a big one): a
    tool's chmod of it meanwhile is kept, named."""
    _bin(repo)
    chmod = _chmod(repo, "700", "bin")
    done = _chmod_once_after(monkeypatch, restorer.Restorer, "_fill_file", chmod)
    rc, said = _restore(repo, capsys, "1")
    assert done[0], said
    assert rc == 1, said
    assert f"NOT WRITTEN bin: {CHANGED}" in said
    assert (repo / "bin" / "a.txt").read_text() == "a old\n"
    assert _mode(repo / "bin") == 0o700


def test_a_read_only_parent_chmodded_while_a_named_path_is_written_keeps_its_mode(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``restore 1 ro/x`` opens up ro/ (555: u+w added) to write x into it, and gives it its
    555 back after; a tool's chmod of ro/ meanwhile (775) stays: giving 555 back took it,
    and it was in no snapshot."""
    install(repo)
    (repo / "ro").mkdir()
    (repo / "ro" / "x").write_text("x old\n")
    gs(repo, "create")  # 1
    (repo / "ro" / "x").write_text("x edit\n")
    (repo / "ro").chmod(0o555)
    chmod = _chmod(repo, "775", "ro")
    done = _chmod_once_after(monkeypatch, restorer.Restorer, "_fill_file", chmod)
    rc, said = _restore(repo, capsys, "1", "ro/x")
    assert done[0], said
    assert rc == 0, said  # (ro/ is no path the restore writes: nothing of it to name)
    assert (repo / "ro" / "x").read_text() == "x old\n"
    assert _mode(repo / "ro") == 0o775, said
