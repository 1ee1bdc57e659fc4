"""sqlite3's C module, without the package around it (which imports datetime: 8 million
instructions of every hook, a sixth of what an unchanged hook adds to Python's start, for
date adapters and constructors nothing here uses).

Modules a hook imports bind the name ``sqlite3`` to this module at run time::

    if TYPE_CHECKING:
        import sqlite3
    else:
        from git_snapshot import sqlite as sqlite3

Every name they use (connect, Connection, Error and its subclasses) is the C module's own:
the very objects ``import sqlite3`` gives, so an error raised under one name is caught under
the other. Only the package's default date and datetime adapters are missing: no index or
journal stores a date object (times are floats). Type checkers see sqlite3 itself.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from types import ModuleType


class _LruOnly:
    """What _sqlite3 takes from functools: ``lru_cache``, its statement cache. Python 3.11's
    _sqlite3 imports functools for it when the module loads, and functools imports collections
    (operator, keyword, reprlib, itertools) and types: 5 M instructions of every hook, for
    one C function. This is functools.lru_cache's own C wrapper (``_functools``, built in),
    called as functools calls it; only ``cache_info()`` gives a plain tuple."""

    @staticmethod
    def lru_cache(maxsize: int | None = 128, typed: bool = False) -> object:
        import _functools  # type: ignore[import-not-found]  # built in, no stub

        def decorate(fn: object) -> object:
            return _functools._lru_cache_wrapper(fn, maxsize, typed, tuple)

        return decorate


def _load() -> ModuleType:
    import _thread
    import sys

    # only while nothing else runs: another thread importing functools meanwhile would get this
    lend = "functools" not in sys.modules and _thread._count() == 0
    if lend:
        sys.modules["functools"] = _LruOnly  # type: ignore[assignment]
    try:
        import _sqlite3  # what sqlite3/dbapi2.py star-imports

        return _sqlite3
    except Exception:  # (an interpreter that lays sqlite3 out otherwise, or whose _sqlite3
        pass  # wants more of functools than lru_cache): the package, with the real functools
    finally:
        if lend:  # _sqlite3 keeps the function it took; anyone else gets the real functools
            del sys.modules["functools"]
    import sqlite3

    return sqlite3


_impl: ModuleType = _load()
# bytes (the index's keys) bound as they are, a BLOB, without sqlite3's adaptation: it adapts
# every parameter that is not exactly an int, float, str or bytearray, and for bytes with no
# adapter registered it then asks the protocol type for __adapt__ (an AttributeError made and
# cleared) and the bytes for __conform__, at each key bound (L's 1 % step: 17,068). This one
# gives the same object back (a C method): 200k keys inserted 340 -> 230 ms of CPU
_impl.register_adapter(bytes, bytes.__bytes__)


def __getattr__(name: str) -> object:
    if name.startswith("__"):  # the import system probing (__path__...): not sqlite3's
        raise AttributeError(name)
    value = getattr(_impl, name)
    globals()[name] = value  # found here from now on, without this function
    return value
