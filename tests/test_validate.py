"""One check for every reader: what restore and export refuse, verify names (store/validate.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest
from storehelpers import HELPER
from storehelpers import Crafter
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import restore
from storehelpers import take

from git_snapshot.errors import UserError
from git_snapshot.store import Store
from git_snapshot.store.diff import diff_dir
from git_snapshot.store.export import export
from git_snapshot.store.index import Snapshot
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import Entry
from git_snapshot.store.validate import escaped
from git_snapshot.store.validate import show
from git_snapshot.store.verify import verify


@pytest.fixture
def store(store_dir: Path) -> Iterator[Store]:
    with Store(store_dir) as s:
        yield s


Make = Callable[[Crafter], Entry]

# name of the case -> the hostile entry, named "bad" where it has a name of its own
HOSTILE: dict[str, Make] = {
    "empty name": lambda c: c.file(b"", b"x"),
    "dot": lambda c: c.file(b".", b"x"),
    "dot-dot": lambda c: c.dir(b"..", [c.file(b"sentinel", b"x")]),
    "slash": lambda c: c.file(b"a/b", b"x"),
    "nul": lambda c: c.file(b"a\0b", b"x"),
    "256 bytes": lambda c: c.file(b"n" * 256, b"x"),
    "unknown kind": lambda c: Entry(b"bad", 9, 0o644, 10**18, 0, b""),
    "short file ref": lambda c: Entry(b"bad", FILE, 0o644, 10**18, 1, c.blob(b"x")[:31]),
    "long dir ref": lambda c: Entry(b"bad", DIR, 0o755, 10**18, 0, c.tree([]) + b"!"),
    "empty link": lambda c: Entry(b"bad", SYMLINK, 0o777, 10**18, 0, b""),
    "nul link": lambda c: Entry(b"bad", SYMLINK, 0o777, 10**18, 3, b"a\0b"),
    "link size": lambda c: Entry(b"bad", SYMLINK, 0o777, 10**18, 99, b"target"),
    "mode bits": lambda c: c.file(b"bad", b"x", mode=0o177777),
}


def _craft(store: Store, case: str, depth: int) -> tuple[Snapshot, bytes]:
    """A snapshot holding the hostile entry of *case* (beside an honest file) *depth*
    directories down; and the hostile entry's path."""
    c = Crafter(store)
    hostile = HOSTILE[case](c)
    entries = sorted([hostile, c.file(b"zz-fine", b"fine")])
    path = hostile.name
    for level in range(depth):
        entries = [c.dir(b"d%d" % level, entries)]
        path = b"d%d/" % level + path
    return c.commit("hostile", entries), path


def _order_case(store: Store, case: str) -> Snapshot:
    c = Crafter(store)
    if case == "repeated":
        entries = [c.file(b"bad", b"1"), c.file(b"bad", b"2")]
    else:  # out of order
        entries = [c.file(b"zz", b"1"), c.file(b"bad", b"2")]
    return c.commit("hostile", entries)


def _everyone_refuses(store: Store, snap: Snapshot, shown: str, tmp_path: Path) -> None:
    """verify names *shown*; restore refuses before writing; export refuses, leaving nothing."""
    problems = verify(store, [snap]).problems
    assert [p.path for p in problems] == [shown], problems
    assert problems[0].message.startswith("refused: ")
    target = tmp_path / "target"
    with pytest.raises(UserError) as refused:
        restore(store, snap, target)
    assert not target.exists(), "restore wrote before refusing"
    assert "refusing" in str(refused.value) and "\n" not in str(refused.value)
    with pytest.raises(UserError):
        export(store, snap, str(tmp_path / "out.tar"))
    assert [n for n in os.listdir(tmp_path) if "out.tar" in n] == []
    with pytest.raises(UserError):
        diff_dir(store, snap.root, os.fsencode(tmp_path))


@pytest.mark.parametrize("depth", [0, 2])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_verify_names_what_restore_and_export_refuse(
    case: str, depth: int, store: Store, tmp_path: Path
) -> None:
    snap, path = _craft(store, case, depth)
    _everyone_refuses(store, snap, show(path), tmp_path)


@pytest.mark.parametrize("case", ["repeated", "out of order"])
def test_order_is_part_of_the_one_check(case: str, store: Store, tmp_path: Path) -> None:
    snap = _order_case(store, case)
    _everyone_refuses(store, snap, "bad", tmp_path)


def test_a_file_size_that_is_not_its_contents_is_damage_everywhere(
    store: Store, tmp_path: Path
) -> None:
    """A record saying 3 bytes for a 10-byte blob: export used to write 3 bytes, exit 0."""
    c = Crafter(store)
    blob = c.blob(b"0123456789")
    snap = c.commit("lies", [Entry(b"short", FILE, 0o644, 10**18, 3, blob), c.file(b"true", b"ok")])
    problems = verify(store, [snap]).problems
    assert [(p.path, "records 3 bytes" in p.message) for p in problems] == [("short", True)]
    with pytest.raises(UserError, match="short"):
        restore(store, snap, tmp_path / "target")
    assert (tmp_path / "target" / "true").read_bytes() == b"ok"
    assert not (tmp_path / "target" / "short").exists()
    with pytest.raises(UserError, match="short"):
        export(store, snap, str(tmp_path / "out.tar"))
    with tarfile.open(tmp_path / "out.tar") as tar:
        assert tar.getnames() == ["true"]


def test_show_gives_one_shell_word_and_nothing_for_a_terminal() -> None:
    """A name as the shell word that gives it back (RED34: 0xff and a typed \\xff printed alike)."""
    assert show("caf\xe9.txt".encode()) == "caf\xe9.txt"  # printable text stays as it is
    assert show("caf\xe9 \u20ac".encode()) == "'caf\xe9 \u20ac'"
    assert show(b"bad\\xff") == "'bad\\xff'"
    for name in (
        b"red\x1b[31mtext",
        b"a\nb\tc\rd\x07\x7f",
        "\u202eevil\u200b".encode(),
        b"caf\xe9",  # not UTF-8
        "\x9b".encode(),  # C1 CSI
    ):
        shown = show(name)
        assert shown.isascii() and shown.isprintable(), shown
        said = subprocess.run(["sh", "-c", f"printf %s {shown}"], capture_output=True, check=True)
        assert said.stdout == name


def test_escaped_text_escapes_what_would_drive_a_terminal() -> None:
    assert escaped(b"red\x1b[31mtext") == "red\\x1b[31mtext"
    assert escaped(b"a\nb\tc\rd\x07\x7f") == "a\\nb\\tc\\rd\\x07\\x7f"
    assert escaped("\u202eevil\u200b".encode()) == "\\u202eevil\\u200b"
    assert escaped("caf\xe9 \u20ac".encode()) == "caf\xe9 \u20ac"  # printable text stays
    assert escaped(b"caf\xe9") == "caf\\xe9"  # not UTF-8
    assert escaped("\x9b".encode()) == "\\x9b"  # C1 CSI


# -- verify and a concurrent gc ---------------------------------------------------------------


SNAPPER = """
import os, sys
sys.path.insert(0, os.path.dirname(sys.argv[1]))
from storehelpers import take, _wait_for
from git_snapshot.store import Store
store_dir, src, go = sys.argv[2:5]
_wait_for(go)
for i in range(30):
    for j in range(8):  # a share of the files changes: older packs fall below half in use
        with open(os.path.join(src, f"f{(i * 8 + j) % 200}"), "wb") as f:
            f.write(os.urandom(3000))
    with Store(store_dir) as store:
        take(store, "s", src)
"""


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.slow
def test_verify_during_gc_reports_no_false_damage(store_dir: Path, tmp_path: Path) -> None:
    """Observed: during gc, 8 of 83 verify runs reported damage that was not there (gc moved
    objects to a new pack, or dropped a snapshot, while verify looked at them)."""
    src = tmp_path / "src"
    build(src, D({f"f{i}".encode(): F(os.urandom(3000)) for i in range(200)}))
    with Store(store_dir) as store:
        take(store, "s", src)
    go, stop, ran = tmp_path / "go", tmp_path / "stop", tmp_path / "gc-ran"
    snapper = _spawn("-c", SNAPPER, HELPER, str(store_dir), str(src), str(go))
    gcer = _spawn(HELPER, "gcloop", str(store_dir), str(go), str(stop), str(ran))
    go.touch()
    runs = false_reports = 0
    try:
        deadline = time.monotonic() + 300
        # while the snapper runs, and on beside gc (which loops until *stop*) until verify ran
        # 10 times and gc removed something meanwhile (*ran*). On a loaded machine the
        # snapper's 30 snapshots once ended after verify's ninth run; and once (4 busy loops
        # at nice -10 beside another test worker) gc's counts read "removed": 0 at the end of
        # this loop's minute (not reproduced in 9 runs under load since; gc there got 3
        # rounds where a quiet machine gives it 8): the loop waits for a removal, up to 300 s,
        # and a failure prints gc's counts
        while (
            snapper.poll() is None or runs < 10 or not ran.exists()
        ) and time.monotonic() < deadline:
            with Store(store_dir) as store:
                report = verify(store, read_data=True)
            runs += 1
            false_reports += not report.ok
            time.sleep(0.01)  # let gc take its exclusive lock between runs
    finally:
        stop.touch()
        _, snap_err = snapper.communicate(timeout=120)
        out, err = gcer.communicate(timeout=120)
    assert snapper.returncode == 0, snap_err
    assert gcer.returncode == 0, err
    assert ran.exists(), f"gc never collected beside verify: the test proved nothing ({out})"
    assert runs >= 10
    assert false_reports == 0, f"{false_reports} of {runs} verify runs reported false damage"
