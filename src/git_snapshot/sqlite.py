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

_impl: ModuleType
try:
    import _sqlite3 as _impl  # what sqlite3/dbapi2.py star-imports
except ImportError:  # an interpreter that lays sqlite3 out otherwise
    import sqlite3 as _impl


def __getattr__(name: str) -> object:
    if name.startswith("__"):  # the import system probing (__path__...): not sqlite3's
        raise AttributeError(name)
    value = getattr(_impl, name)
    globals()[name] = value  # found here from now on, without this function
    return value
