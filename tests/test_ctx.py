"""git_snapshot.ctx (contextmanager, suppress, record) behaves as contextlib's and
collections.namedtuple's, and git_snapshot.sqlite's statement cache works without functools:
the hook path takes these instead of the standard ones (tests/test_hook_imports.py)."""

from __future__ import annotations

import collections
import contextlib
import pickle
import subprocess
import sys
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest

from git_snapshot import ctx

MANAGERS = {"contextlib": contextlib.contextmanager, "ctx": ctx.contextmanager}


class Boom(Exception):
    pass


def _outcome(fn: Callable[[], object]) -> tuple[str, str]:
    try:
        return ("value", repr(fn()))
    except BaseException as exc:  # the kind is what is compared
        cause = type(exc.__cause__).__name__ if exc.__cause__ else ""
        return (type(exc).__name__ + ("<-" + cause if cause else ""), str(exc))


def _cases(cm: Callable[[Callable[[], Iterator[Any]]], Any]) -> list[Callable[[], object]]:
    log: list[str] = []

    @cm
    def plain() -> Iterator[int]:
        log.append("enter")
        try:
            yield 1
        finally:
            log.append("exit")

    @cm
    def swallows() -> Iterator[None]:
        try:
            yield
        except Boom:
            log.append("swallowed")

    @cm
    def no_yield() -> Iterator[None]:
        if False:
            yield

    @cm
    def two_yields() -> Iterator[None]:
        yield
        yield

    @cm
    def converts() -> Iterator[None]:
        try:
            yield
        except Boom as exc:
            raise ValueError("converted") from exc

    @cm
    def yields_again_after_throw() -> Iterator[None]:
        try:
            yield
        except Boom:
            yield

    def use(make: Any, body: Callable[[object], object]) -> Callable[[], object]:
        def run() -> object:
            with make() as got:
                return body(got)

        return run

    def boom(_: object) -> object:
        raise Boom("b")

    def stop(_: object) -> object:
        raise StopIteration("s")

    def runtime(_: object) -> object:
        raise RuntimeError("r")

    def ok(got: object) -> object:
        return got

    return [
        use(plain, ok),
        use(plain, boom),
        use(plain, stop),
        use(plain, runtime),
        use(swallows, boom),
        use(swallows, ok),
        use(no_yield, ok),
        use(two_yields, ok),
        use(converts, boom),
        use(yields_again_after_throw, boom),
        lambda: log.copy(),
    ]


def test_contextmanager_as_contextlib() -> None:
    """Every outcome (values, exceptions, their causes, the generator's own log) the same."""
    got = {name: [_outcome(f) for f in _cases(cm)] for name, cm in MANAGERS.items()}
    assert got["ctx"] == got["contextlib"]
    assert len({kind for kind, _ in got["ctx"]}) > 4  # the cases do differ


def test_suppress_as_contextlib() -> None:
    for sup in (contextlib.suppress, ctx.suppress):
        with sup(KeyError, OSError):
            raise FileNotFoundError("a subclass is suppressed")
        with sup(KeyError):
            pass
        with pytest.raises(ValueError), sup(KeyError):
            raise ValueError("not listed")


@pytest.mark.parametrize(
    ("fields", "defaults", "args", "kw"),
    [
        ("a b c", (), (1, 2, 3), {}),
        ("a b c", (9,), (1, 2), {}),
        ("a b c", (8, 9), (1,), {"c": 3}),
        ("a b c", (8, 9), (), {"a": 1, "b": 2}),
        ("a b c", (), (1, 2), {}),  # missing
        ("a b c", (), (1, 2, 3, 4), {}),  # too many
        ("a b c", (), (1,), {"a": 1, "b": 2, "c": 3}),  # twice
        ("a b c", (), (1, 2, 3), {"d": 4}),  # unknown
    ],
)
def test_record_as_namedtuple(
    fields: str, defaults: tuple[int, ...], args: tuple[int, ...], kw: dict[str, int]
) -> None:
    nt: Any = collections.namedtuple("T", fields, defaults=defaults)  # type: ignore[misc]
    rec: Any = ctx.record("T", fields, defaults)
    made = [_outcome(lambda c=c: c(*args, **kw)) for c in (nt, rec)]  # type: ignore[misc]
    assert made[0][0] == made[1][0]  # the same value, or the same kind of error
    if made[0][0] != "value":
        return
    a: Any = nt(*args, **kw)
    b: Any = rec(*args, **kw)
    assert a == b and hash(a) == hash(b) and tuple(a) == tuple(b) and repr(a) == repr(b)
    assert a._fields == b._fields and a._asdict() == b._asdict()
    assert a._field_defaults == b._field_defaults
    assert a._replace(b=7) == b._replace(b=7) and type(b._replace(b=7)) is rec
    assert rec._make([4, 5, 6]) == (4, 5, 6) and type(rec._make([4, 5, 6])) is rec
    assert [getattr(b, f) for f in b._fields] == [getattr(a, f) for f in a._fields]


_Point: Any = ctx.record("Point", "x y", (0,))


class Point(_Point):  # type: ignore[misc]
    __slots__ = ()


def test_record_subclass_pickles_and_has_no_dict() -> None:
    p = Point(1)
    assert pickle.loads(pickle.dumps(p)) == p and type(pickle.loads(pickle.dumps(p))) is Point
    assert not hasattr(p, "__dict__")
    with pytest.raises(AttributeError):
        p.x = 3


def test_sqlite_without_functools() -> None:
    """git_snapshot.sqlite loads _sqlite3 without functools (Python 3.11's _sqlite3 imports
    it for lru_cache, its statement cache), and the cache it gets works: statements reused
    and evicted, the real functools importable afterwards."""
    code = """
import sys
from git_snapshot import sqlite
con = sqlite.connect(":memory:", cached_statements=4)
assert "functools" not in sys.modules and "collections" not in sys.modules
con.execute("create table t (a)")
for i in range(300):
    con.execute("insert into t values (?)", (i,))
    con.execute(f"select {i % 9} from t limit 1").fetchone()
assert con.execute("select count(*), sum(a) from t").fetchone() == (300, 44850)
con2 = sqlite.connect(":memory:", cached_statements=0)
assert con2.execute("select 1").fetchone() == (1,)
import functools
assert functools.lru_cache.__module__ == "functools"
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout == "ok\n", out.stderr


def test_sqlite_binds_bytes_as_they_are() -> None:
    """bytes are bound through the adapter git_snapshot.sqlite registers (bytes.__bytes__:
    the same object, without sqlite3's search for __adapt__ and __conform__ at each key), as
    a BLOB, the same bytes back; a bytes subclass and a bytearray as before."""
    code = """
import _sqlite3
from git_snapshot import sqlite
assert _sqlite3.adapters[(bytes, _sqlite3.PrepareProtocol)] == bytes.__bytes__
con = sqlite.connect(":memory:")
con.execute("create table t (k blob)")
class Key(bytes):
    pass
for k in (b"\\0key\\xff", Key(b"sub"), bytearray(b"array"), b""):
    con.execute("insert into t values (?)", (k,))
got = con.execute("select k, typeof(k) from t order by rowid").fetchall()
assert got == [(b"\\0key\\xff", "blob"), (b"sub", "blob"), (b"array", "blob"), (b"", "blob")], got
assert con.execute("select count(*) from t where k = ?", (b"\\0key\\xff",)).fetchone() == (1,)
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout == "ok\n", out.stderr


def test_sqlite_falls_back_to_the_package_when_the_lent_cache_fails() -> None:
    """A _sqlite3 that fails to load with what sqlite.py lends it (as one wanting more of
    functools than lru_cache would) is loaded by the sqlite3 package with the real
    functools: a hook must never fail to open the store over an import trick."""
    code = """
import sys
class Once:  # the first import of _sqlite3 fails as a module init wanting functools.partial
    tripped = False
    def find_spec(self, name, path=None, target=None):
        if name == "_sqlite3" and not Once.tripped:
            Once.tripped = True
            raise AttributeError("type object '_LruOnly' has no attribute 'partial'")
        return None
sys.meta_path.insert(0, Once())
from git_snapshot import sqlite
assert Once.tripped
con = sqlite.connect(":memory:")
assert con.execute("select 41 + 1").fetchone() == (42,)
assert isinstance(con, sqlite.Connection) and "sqlite3" in sys.modules
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout == "ok\n", out.stderr
