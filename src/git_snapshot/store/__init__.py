"""The archiving core: a content-addressed, crash-safe snapshot store. Knows nothing of git.

The names below are loaded on first use: a hook imports ``git_snapshot.store.location`` or
``git_snapshot.store.core`` without the archiver and the pack writer (and what they import)
when its snapshot reuses the last one. Type checkers see the real imports; at run time a
module ``__getattr__`` that they never see loads them.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)

__all__ = ["Options", "Result", "Snapshot", "Store", "create_snapshot"]

if TYPE_CHECKING:
    from git_snapshot.store.archiver import Options as Options
    from git_snapshot.store.archiver import Result as Result
    from git_snapshot.store.archiver import create_snapshot as create_snapshot
    from git_snapshot.store.core import Store as Store
    from git_snapshot.store.index import Snapshot as Snapshot
else:
    _HOME = {
        "Options": "archiver",
        "Result": "archiver",
        "create_snapshot": "archiver",
        "Store": "core",
        "Snapshot": "index",
    }

    def __getattr__(name: str) -> object:
        import sys

        full = f"{__name__}.{_HOME.get(name, name)}"
        try:  # __import__, not importlib (which imports warnings)
            __import__(full)
        except ModuleNotFoundError as exc:
            if exc.name != full:
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
        module = sys.modules[full]
        if name not in _HOME:
            return module  # a submodule not imported yet (``store.gc`` after ``import store``)
        value = getattr(module, name)
        globals()[name] = value  # looked up once
        return value
