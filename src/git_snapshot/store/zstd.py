"""zstandard's C backend without its package's ``__init__``.

``import zstandard`` runs a package ``__init__`` that imports ``platform`` (which imports
``re`` and compiles its patterns) and, before Python 3.12, ``typing``, to pick a backend:
52 M instructions (callgrind), about 30 ms, against 2.6 M for loading the C backend itself.
Every hook that stores or reads an object paid it. :func:`load` finds the package where
``import zstandard`` would, and loads its ``backend_c`` extension alone, as
``zstandard.backend_c``: the very module the package would load, so a later ``import
zstandard`` anywhere in the process finds it there and exposes the same classes. Anything
unusual (another Python than CPython, PYTHON_ZSTANDARD_IMPORT_POLICY set to another backend,
an install without the C backend, a failure of any kind) takes the plain import.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from types import ModuleType

BACKEND = "zstandard.backend_c"


def load() -> ModuleType:
    """zstandard's API (ZstdCompressor, ZstdDecompressor, ZstdError...): the package when it is
    imported already, else its C backend loaded alone."""
    module = sys.modules.get("zstandard") or sys.modules.get(BACKEND)
    if module is not None:
        return module
    if sys.implementation.name == "cpython" and os.environ.get(
        "PYTHON_ZSTANDARD_IMPORT_POLICY", "default"
    ).strip() in ("default", "cext", "cffi_fallback"):
        try:
            return _backend()
        except Exception:  # whatever it was, the package's own import decides
            sys.modules.pop(BACKEND, None)
    import zstandard

    return zstandard


def _backend() -> ModuleType:
    """The C extension, found and loaded by the import system's own machinery (what ``from
    .backend_c import *`` in the package does), without running the package."""
    from _frozen_importlib import _load  # type: ignore[attr-defined]
    from _frozen_importlib_external import PathFinder

    package = PathFinder.find_spec("zstandard")
    if package is None or not package.submodule_search_locations:
        raise ImportError("zstandard")
    spec = PathFinder.find_spec(BACKEND, package.submodule_search_locations)
    if spec is None:
        raise ImportError(BACKEND)
    module: ModuleType = _load(spec)
    return module
