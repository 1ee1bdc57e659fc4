"""Snapshot, then restore or export, and get back every byte, mode, link target and mtime."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from storehelpers import D
from storehelpers import F
from storehelpers import L
from storehelpers import Node
from storehelpers import Seen
from storehelpers import build
from storehelpers import diff
from storehelpers import restore
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take

from git_snapshot.errors import UserError
from git_snapshot.store import Store
from git_snapshot.store.export import export
from git_snapshot.store.index import Snapshot
from git_snapshot.store.restorer import Report
from git_snapshot.store.restorer import Restorer
from git_snapshot.store.verify import verify

# -- strategies -----------------------------------------------------------------------------------

SPECIAL_NAMES = [
    b"\xff\xfe",
    b"with space",
    b"new\nline",
    b" lead",
    b"trail ",
    b"-dash",
    b"\xe9t\xe9",
    b"\xc3\xa9t\xc3\xa9",
    b"tab\there",
    b"*?[",
    b"...",
    b".hidden",
    b"\\back",
]


def _valid(name: bytes) -> bool:
    return (
        b"/" not in name
        and b"\0" not in name
        and name not in (b".", b"..", b".git")  # restore never writes a top-level .git
        and not name.startswith(b".gsnap-")
    )


NAMES = st.one_of(st.sampled_from(SPECIAL_NAMES), st.binary(min_size=1, max_size=10).filter(_valid))
MTIMES = st.one_of(
    st.integers(min_value=-(10**17), max_value=4 * 10**18),
    st.sampled_from([0, 10**18, 1_700_000_000_123_456_789]),
)
EXPORT_MTIMES = st.integers(min_value=10**9, max_value=4 * 10**18)
FILE_MODES = st.sampled_from([0o644, 0o755, 0o600, 0o700, 0o444, 0o640])
DIR_MODES = st.sampled_from([0o755, 0o700, 0o750, 0o555])
TARGETS = st.one_of(
    NAMES,
    st.sampled_from(
        [b"/etc/passwd", b"/no/such/target", b"../../escape", b"\xff/x", b"a/b/../c", b"/"]
    ),
)
DATA = st.one_of(
    st.just(b""),
    st.binary(max_size=300),
    st.binary(min_size=1, max_size=4).map(lambda b: b * 5000),  # compressible
)


def _trees(mtimes: st.SearchStrategy[int]) -> st.SearchStrategy[D]:
    files = st.builds(F, DATA, FILE_MODES, mtimes)
    links = st.builds(L, TARGETS, mtimes)

    def dirs(children: st.SearchStrategy[Node]) -> st.SearchStrategy[D]:
        return st.builds(D, st.dictionaries(NAMES, children, max_size=5), DIR_MODES, mtimes)

    nodes = st.recursive(st.one_of(files, links), dirs, max_leaves=20)
    return st.builds(D, st.dictionaries(NAMES, nodes, min_size=1, max_size=6))


TREES = _trees(MTIMES)
EXPORT_TREES = _trees(EXPORT_MTIMES)

HYPO = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def store(store_dir: Path) -> Iterator[Store]:
    with Store(store_dir) as s:
        yield s


def _workdir(tmp_path: Path) -> Path:
    """A fresh directory per hypothesis example (tmp_path is shared by all examples)."""
    return Path(tempfile.mkdtemp(dir=tmp_path))


def _source() -> str:
    return "src-" + uuid.uuid4().hex


def _take_example(
    store: Store, spec: D, tmp_path: Path
) -> tuple[Path, Path, dict[bytes, Seen], Snapshot]:
    """*spec* built as src in a fresh work dir: (work dir, src, src as scanned, a snapshot of
    it under a source of its own)."""
    work = _workdir(tmp_path)
    src = work / "src"
    build(src, spec)
    before = scan(src)
    return work, src, before, take(store, _source(), src)


# -- restore ---------------------------------------------------------------------------------------


@HYPO
@given(spec=TREES)
def test_roundtrip_restore_in_place_and_elsewhere(spec: D, tmp_path: Path, store: Store) -> None:
    work, src, before, snap = _take_example(store, spec, tmp_path)
    assert snap.skipped == 0
    assert diff(before, snapshot_contents(store, snap)) == []
    report = verify(store, [snap], read_data=True)
    assert report.ok, report.problems

    shutil.rmtree(src)
    restore(store, snap, src)
    assert diff(before, scan(src)) == []

    elsewhere = work / "to" / "deeper"
    rep = restore(store, snap, elsewhere)
    assert diff(before, scan(elsewhere)) == []
    assert sorted(rep.created) == sorted(before)
    assert rep.updated == [] and rep.deleted == []

    again = restore(store, snap, elsewhere)  # nothing to do the second time
    assert again.created == again.updated == again.deleted == []
    assert diff(before, scan(elsewhere)) == []


def _obstacle(node: Node, rnd: random.Random, outside: Path) -> Node | None:
    """Something else of another kind (or other content) in the place of *node*."""
    out_file = os.fsencode(outside / "sentinel")
    out_dir = os.fsencode(outside / "dir")
    if isinstance(node, F):
        return rnd.choice(
            [
                D({b"in-the-way": F(b"obstacle")}),
                L(out_file),  # writing through this link would clobber the sentinel
                F(node.data + b"changed", 0o600),
                None,
            ]
        )
    if isinstance(node, L):
        return rnd.choice([D({b"x": F(b"x")}), F(b"not a link"), L(b"elsewhere"), None])
    choice = rnd.random()
    if choice < 0.3:
        return L(out_dir)  # a symlink where a directory was: must be replaced, not entered
    if choice < 0.45:
        return F(b"a file where a directory was")
    return _obstacle_dir(node, rnd, outside)


def _obstacle_dir(node: D, rnd: random.Random, outside: Path) -> D:
    children: dict[bytes, Node] = {b"extra-%d" % rnd.randrange(1000): F(b"extra")}
    for name, child in node.children.items():
        ob = _obstacle(child, rnd, outside)
        if ob is not None:
            children[name] = ob
    return D(children, 0o700)


@HYPO
@given(spec=TREES, rnd=st.randoms(use_true_random=False), delete=st.booleans())
def test_restore_over_things_in_the_way(
    spec: D, rnd: random.Random, delete: bool, tmp_path: Path, store: Store
) -> None:
    work, _, before, snap = _take_example(store, spec, tmp_path)

    outside = work / "outside"
    build(outside, D({b"sentinel": F(b"untouched"), b"dir": D({b"keep": F(b"k")})}))
    outside_before = scan(outside)
    target = work / "target"
    build(target, _obstacle_dir(spec, rnd, outside))

    dry = Restorer(store, delete=delete, dry_run=True).restore(snap, str(target), None)
    real = Restorer(store, delete=delete).restore(snap, str(target), None)
    assert _as_sets(dry) == _as_sets(real)

    assert scan(outside) == outside_before, "the restore wrote outside its target"
    after = scan(target)
    if delete:
        assert diff(before, after) == []
    else:
        assert diff(before, {k: v for k, v in after.items() if k in before}) == []
        assert not any(k.startswith(b".gsnap-") or b"/.gsnap-" in k for k in after)


def _as_sets(r: Report) -> tuple[set[bytes], set[bytes], set[bytes], int]:
    return set(r.created), set(r.updated), set(r.deleted), r.unchanged


def _fixed_tree() -> D:
    return D(
        {
            b"a": D({b"b": D({b"c.txt": F(b"c" * 10)}), b"d.txt": F(b"d")}),
            b"e.txt": F(b"e", 0o755),
            b"link": L(b"a/d.txt"),
            b"empty": D(),
        }
    )


def test_restore_chosen_paths_only(store: Store, tmp_path: Path) -> None:
    src = tmp_path / "src"
    build(src, _fixed_tree())
    before = scan(src)
    snap = take(store, "s", src)
    (src / "a" / "b" / "c.txt").write_bytes(b"edited")
    (src / "a" / "b" / "new.txt").write_bytes(b"new")
    (src / "a" / "d.txt").write_bytes(b"edited too")
    (src / "e.txt").unlink()
    (src / "link").unlink()

    rep = restore(store, snap, src, ["a/b/c.txt", "e.txt", "/link"])
    assert set(rep.created) == {b"e.txt", b"link"} and rep.updated == [b"a/b/c.txt"]
    now = scan(src)
    for p in (b"a/b/c.txt", b"e.txt", b"link"):
        assert now[p] == before[p]
    assert now[b"a/d.txt"].data == b"edited too"  # not chosen: left alone
    assert now[b"a/b/new.txt"].data == b"new"

    rep = restore(store, snap, src, [b"a/b"], delete=True)
    assert rep.deleted == [b"a/b/new.txt"]
    assert not (src / "a" / "b" / "new.txt").exists()
    assert (src / "a" / "d.txt").read_bytes() == b"edited too"

    other = tmp_path / "other"
    restore(store, snap, other, ["a/b/c.txt"])
    assert scan(other, mtimes=False).keys() == {b"a", b"a/b", b"a/b/c.txt"}
    assert (other / "a" / "b" / "c.txt").read_bytes() == b"c" * 10

    for bad in ["nope", "a/nope", "e.txt/x", "a/../e.txt", "../e.txt"]:
        with pytest.raises(UserError):
            restore(store, snap, other, [bad])


def test_delete_removes_extras_but_protected_paths_survive(store: Store, tmp_path: Path) -> None:
    src = tmp_path / "src"
    build(src, D({b"keep.txt": F(b"k"), b"sub": D({b"x": F(b"x")}), b".git": D()}))
    snap = take(store, "s", src)
    target = tmp_path / "target"
    build(
        target,
        D(
            {
                b".git": D({b"HEAD": F(b"ref: refs/heads/main"), b"objects": D({b"o": F(b"o")})}),
                b"extra.txt": F(b"extra"),
                b"extra-dir": D({b"deep": D({b"f": F(b"f")})}),
                b"sub": D({b"x": F(b"old"), b"y": F(b"extra"), b"precious": F(b"p")}),
                b"keep.txt": F(b"old"),
            }
        ),
    )
    git_before = scan(target / ".git")
    protect = frozenset({b".git", b"sub/precious"})
    rep = restore(store, snap, target, delete=True, protect=protect)
    assert set(rep.deleted) == {b"extra.txt", b"extra-dir", b"sub/y"}
    assert scan(target / ".git") == git_before, "a protected path was changed"
    assert (target / "sub" / "precious").read_bytes() == b"p"
    assert sorted(os.listdir(target)) == [".git", "keep.txt", "sub"]
    assert sorted(os.listdir(target / "sub")) == ["precious", "x"]
    assert (target / "keep.txt").read_bytes() == b"k"


def _dry_run_target(tmp_path: Path, src: Path) -> Path:
    target = tmp_path / "target"
    build(
        target,
        D(
            {
                b"a": D({b"d.txt": F(b"changed"), b"b": L(b"/etc")}),
                b"e.txt": F(b"e", 0o755),
                b"stray": D({b"s": F(b"s")}),
            }
        ),
    )
    # e.txt holds the same bytes; give it the snapshot's mtime so it is really unchanged
    os.utime(target / "e.txt", ns=(0, os.lstat(src / "e.txt").st_mtime_ns))
    return target


def test_dry_run_reports_what_a_restore_would_do(store: Store, tmp_path: Path) -> None:
    src = tmp_path / "src"
    build(src, _fixed_tree())
    snap = take(store, "s", src)
    target = _dry_run_target(tmp_path, src)
    before = scan(target)
    rep = Restorer(store, delete=True, dry_run=True).restore(snap, str(target), None)
    assert set(rep.created) == {b"a/b/c.txt", b"link", b"empty"}
    # the symlink a/b that the folder a/b replaces is overwritten, as a/d.txt is
    assert sorted(rep.updated) == [b"a/b", b"a/d.txt"]
    assert rep.deleted == [b"stray"]
    assert rep.unchanged == 1
    # files, links and the stray directory are left alone
    after = scan(target)
    assert {k: v for k, v in after.items() if k != b"a"} == {
        k: v for k, v in before.items() if k != b"a"
    }
    real = Restorer(store, delete=True).restore(snap, str(target), None)
    assert _as_sets(real) == _as_sets(rep)
    assert diff(scan(src), scan(target)) == []

    nowhere = tmp_path / "not-there"
    rep = Restorer(store, dry_run=True).restore(snap, str(nowhere), None)
    assert not nowhere.exists()
    assert set(rep.created) == set(scan(src))


def test_dry_run_changes_nothing(store: Store, tmp_path: Path) -> None:
    src = tmp_path / "src"
    tree = _fixed_tree()
    a = tree.children[b"a"]
    assert isinstance(a, D)
    a.mode, a.mtime_ns = 0o700, 10**18
    build(src, tree)
    snap = take(store, "s", src)
    target = _dry_run_target(tmp_path, src)
    before = scan(target)
    Restorer(store, delete=True, dry_run=True).restore(snap, str(target), None)
    assert diff(before, scan(target)) == [], "a dry run changed the target"


def test_symlinks_in_the_target_are_replaced_not_followed(store: Store, tmp_path: Path) -> None:
    src = tmp_path / "src"
    build(src, _fixed_tree())
    before = scan(src)
    snap = take(store, "s", src)
    outside = tmp_path / "outside"
    build(outside, D({b"sentinel": F(b"untouched"), b"b": D({b"c.txt": F(b"outside c")})}))
    outside_before = scan(outside)
    target = tmp_path / "target"
    build(
        target,
        D(
            {
                b"a": L(os.fsencode(outside)),  # a symlink where a directory was
                b"e.txt": L(os.fsencode(outside / "sentinel")),  # ... where a file was
                b"empty": L(b"/"),
            }
        ),
    )
    restore(store, snap, target, ["a/b/c.txt"])  # a chosen path below the link
    assert scan(outside) == outside_before
    assert not (target / "a").is_symlink()
    restore(store, snap, target)
    assert scan(outside) == outside_before
    assert diff(before, scan(target)) == []


def test_restore_into_a_target_given_through_a_symlink(store: Store, tmp_path: Path) -> None:
    src = tmp_path / "src"
    build(src, _fixed_tree())
    snap = take(store, "s", src)
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "via-link").symlink_to(real)
    restore(store, snap, tmp_path / "via-link")
    assert diff(scan(src), scan(real)) == []


def test_setuid_is_not_restored_sticky_and_shared_setgid_are(store: Store, tmp_path: Path) -> None:
    """Set-uid never (a snapshot is untrusted input); the sticky bit and set-gid on a folder
    others cannot write into (a shared group's folder) are kept (RED32 B5)."""
    src = tmp_path / "src"
    build(src, D({b"suid": F(b"#!", 0o4755), b"sgid": D({}, 0o2775), b"sticky": D({}, 0o1777)}))
    snap = take(store, "s", src)
    out = tmp_path / "out"
    restore(store, snap, out)
    got = scan(out)
    assert got[b"suid"].mode == 0o755
    assert got[b"sgid"].mode == 0o2775
    assert got[b"sticky"].mode == 0o1777


def test_unchanged_files_get_their_mode_and_mtime_back(store: Store, tmp_path: Path) -> None:
    """Same bytes: an mtime alone is put back silently (diff shows none either); a mode is an
    update (diff shows it, and the report must name what restore changes)."""
    src = tmp_path / "src"
    build(src, D({b"f": F(b"same", 0o640, 10**18), b"g": F(b"same too", 0o640, 10**18)}))
    snap = take(store, "s", src)
    os.chmod(src / "f", 0o600)
    os.utime(src / "f", ns=(0, 5))
    os.utime(src / "g", ns=(0, 5))
    rep = restore(store, snap, src)
    assert rep.unchanged == 1 and rep.updated == [b"f"] and rep.created == []
    for name in ("f", "g"):
        st = os.lstat(src / name)
        assert (st.st_mode & 0o7777, st.st_mtime_ns) == (0o640, 10**18)


# -- export ----------------------------------------------------------------------------------------


def _extract(archive: Path, into: Path) -> None:
    into.mkdir()
    name = archive.name
    if name.endswith(".tar.zst"):
        if shutil.which("zstd"):
            res = subprocess.run(
                ["tar", "--zstd", "-xf", str(archive), "-C", str(into)], capture_output=True
            )
        else:
            import zstandard

            with open(archive, "rb") as f:
                raw = zstandard.ZstdDecompressor().stream_reader(f).read()
            res = subprocess.run(
                ["tar", "-xf", "-", "-C", str(into)], input=raw, capture_output=True
            )
    else:
        res = subprocess.run(["tar", "-xf", str(archive), "-C", str(into)], capture_output=True)
    assert res.returncode == 0, res.stderr.decode(errors="replace")


def _close_mtimes(expected: dict[bytes, Seen], got: dict[bytes, Seen]) -> list[str]:
    """tarfile writes mtimes as a decimal float: allow one microsecond."""
    problems = []
    for k in sorted(expected.keys() | got.keys()):
        a, b = expected.get(k), got.get(k)
        if a is None or b is None or (a.kind, a.mode, a.data) != (b.kind, b.mode, b.data):
            problems.append(f"{k!r}: {a} vs {b}")
        elif abs(a.mtime_ns - b.mtime_ns) > 1000:
            problems.append(f"{k!r}: mtime {a.mtime_ns} vs {b.mtime_ns}")
    return problems[:20]


needs_tar = pytest.mark.skipif(shutil.which("tar") is None, reason="no tar binary")


@needs_tar
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=EXPORT_TREES)
def test_export_extracts_with_real_tar(spec: D, tmp_path: Path, store: Store) -> None:
    work, _, before, snap = _take_example(store, spec, tmp_path)
    for ext in (".tar", ".tar.gz", ".tar.zst"):
        archive = work / f"out{ext}"
        count = export(store, snap, str(archive))
        assert count == len(before)
        into = work / f"x{ext}"
        _extract(archive, into)
        assert _close_mtimes(before, scan(into)) == []
        assert not any(n.endswith(".tmp") for n in os.listdir(work))


@needs_tar
def test_export_of_a_fixed_tree_with_odd_names(store: Store, tmp_path: Path) -> None:
    src = tmp_path / "src"
    spec = _fixed_tree()
    spec.children[b"\xff\xfe dir\n"] = D({b"n\xe9": F(b"latin-1 name"), b"\xe2\x82\xac": F(b"")})
    spec.children[b"big"] = F(os.urandom(3 << 20) + b"\0" * (3 << 20), 0o600)
    spec.children[b"abs-link"] = L(b"/etc/passwd")
    build(src, spec)
    before = scan(src)
    snap = take(store, "s", src)
    for ext in (".tar", ".tgz", ".tar.gz", ".tar.zst", ".tzst"):
        archive = tmp_path / f"out{ext}"
        assert export(store, snap, str(archive)) == len(before)
        into = tmp_path / f"x{ext}"
        _extract(archive, into)
        assert _close_mtimes(before, scan(into)) == []
    with pytest.raises(UserError):
        export(store, snap, str(tmp_path / "out.zip"))
    assert not (tmp_path / "out.zip").exists()


def _dir_in_the_way(tmp_path: Path) -> tuple[Path, Path]:
    """A snapshot with a file 'build', and a target where 'build' is a directory."""
    src, target = tmp_path / "src", tmp_path / "target"
    src.mkdir(parents=True)
    (src / "build").write_bytes(b"the file\n")
    (target / "build" / "cache").mkdir(parents=True)
    (target / "build" / "cache" / "unsaved").write_bytes(b"no snapshot holds me\n")
    return src, target


def test_a_dir_holding_protected_paths_is_never_replaced(store: Store, tmp_path: Path) -> None:
    src, target = _dir_in_the_way(tmp_path)
    snap = take(store, "s", src)
    report = Restorer(store, protect=frozenset({b"build/cache/unsaved"})).restore(
        snap, str(target), None
    )
    assert (target / "build" / "cache" / "unsaved").read_bytes() == b"no snapshot holds me\n"
    assert report.kept == [b"build"]
    assert report.files == 0


def test_in_place_a_dir_in_the_way_is_replaced_elsewhere_kept(store: Store, tmp_path: Path) -> None:
    src, target = _dir_in_the_way(tmp_path)
    snap = take(store, "s", src)
    # elsewhere (--to): nothing holds the directory's content, so it stays and is reported
    report = Restorer(store, replace_dirs=False).restore(snap, str(target), None)
    assert report.kept == [b"build"]
    assert (target / "build" / "cache" / "unsaved").exists()
    # an empty directory in the way is replaced even then
    shutil.rmtree(target / "build" / "cache")
    report = Restorer(store, replace_dirs=False).restore(snap, str(target), None)
    assert (target / "build").read_bytes() == b"the file\n" and report.kept == []
    # in place (the pre-restore snapshot holds what was there), it is replaced
    shutil.rmtree(target)
    _dir_in_the_way(tmp_path / "again")
    target = tmp_path / "again" / "target"
    report = Restorer(store).restore(snap, str(target), None)
    assert (target / "build").read_bytes() == b"the file\n" and report.kept == []
