"""``git snapshot export``: archives that the real ``tar`` extracts to the snapshot's tree."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import zstandard
from clihelpers import gs
from test_cli_helpers import NON_UTF8
from test_cli_helpers import build_rich_worktree
from test_cli_helpers import state_diff
from test_cli_helpers import tree_state

TAR = shutil.which("tar")
pytestmark = pytest.mark.skipif(TAR is None, reason="needs the tar program")


def _extract(archive: Path, dest: Path, zstd_program: bool) -> None:
    assert TAR is not None
    dest.mkdir()
    if archive.name.endswith(".tar.zst"):
        if zstd_program:
            cmd = [TAR, "--zstd", "-xpf", str(archive), "-C", str(dest)]
            subprocess.run(cmd, check=True, capture_output=True)
            return
        plain = archive.with_name(archive.name[: -len(".zst")])
        with archive.open("rb") as src, plain.open("wb") as out:
            zstandard.ZstdDecompressor().copy_stream(src, out)
        archive = plain
    # -p: the archive's permissions, not the umask's
    subprocess.run([TAR, "-xpf", str(archive), "-C", str(dest)], check=True, capture_output=True)


@pytest.mark.parametrize(
    ("name", "zstd_program"),
    [
        ("snap.tar", False),
        ("snap.tar.gz", False),
        ("snap.tgz", False),
        pytest.param(
            "snap.tar.zst",
            True,
            marks=pytest.mark.skipif(not shutil.which("zstd"), reason="no zstd program"),
        ),
        ("snap.tar.zst", False),  # through python's zstandard, then plain tar
    ],
)
def test_export_extracts_to_the_snapshot_tree(
    repo: Path, tmp_path: Path, name: str, zstd_program: bool
) -> None:
    build_rich_worktree(repo, modules=60)
    want = tree_state(repo)
    gs(repo)
    archive = tmp_path / name

    out = gs(repo, "export", "latest", str(archive)).out
    assert f"exported snapshot 1 ({len(want)} entries)" in out
    dest = tmp_path / "x"
    _extract(archive, dest, zstd_program)
    got = tree_state(dest, skip=())
    assert NON_UTF8 in got and got[b".env"][1] == 0o600
    # tar keeps mtimes to the microsecond (a float in the pax header); links' mtimes are
    # tar's business
    assert state_diff(want, got, mtime_slack_ns=1000, link_mtimes=False) == []


def test_export_is_relative_to_dash_c_and_refuses_unknown_formats(
    repo: Path, tmp_path: Path
) -> None:
    gs(repo)
    gs(tmp_path, "-C", "repo", "export", "1", "../out.tar")
    assert (tmp_path / "out.tar").is_file()
    assert not (tmp_path.parent / "out.tar").exists()

    ran = gs(repo, "export", "1", str(tmp_path / "out.zip"), rc=1)
    assert len(ran.err_lines) == 1 and ".tar.zst" in ran.err
    assert not (tmp_path / "out.zip").exists()
    ran = gs(repo, "export", "7", str(tmp_path / "none.tar"), rc=1)
    assert len(ran.err_lines) == 1 and "no snapshot 7" in ran.err
    assert not list(tmp_path.glob("none.tar*"))
