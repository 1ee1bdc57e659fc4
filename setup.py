"""The optional C speedups; everything else about the package is in pyproject.toml.

git_snapshot.store._ctree (store/_ctree.c) is built when a C compiler and Python's headers are
there, and skipped when not (optional=True): the install still succeeds and
git_snapshot.store.ctree uses its pure-Python twin, with the same results. The build stamps the
module with the SHA-256 of the source it was built from (SOURCE_SHA256), so that a stale build
next to a changed source (an editable install, PYTHONPATH=src) is told apart:
tests/test_native_build.py and `git snapshot doctor`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from setuptools import Extension
from setuptools import setup

SOURCE = "src/git_snapshot/store/_ctree.c"


def _ctree() -> Extension:
    digest = hashlib.sha256((Path(__file__).parent / SOURCE).read_bytes()).hexdigest()
    return Extension(
        "git_snapshot.store._ctree",
        [SOURCE],
        define_macros=[("GS_CTREE_SOURCE_SHA256", f'"{digest}"')],
        optional=True,
    )


setup(ext_modules=[_ctree()])
