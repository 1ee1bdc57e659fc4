"""The optional C speedups; everything else about the package is in pyproject.toml.

git_snapshot.store._ctree (store/_ctree.c) is built when a C compiler and Python's headers are
there, and git_snapshot.store._readmany (store/_readmany.c, linked with OpenSSL's libcrypto:
a first walk's reads and a restore's writers' loop, both hashing) when OpenSSL's headers are
there too; each is skipped when it does not build (optional=True): the install still succeeds
and the walk and the restore use the pure-Python code, with the same results
(git_snapshot.store.ctree's twin; reading._read_listed; restore_write.Writing._put_files_py).
The build stamps each module with the SHA-256 of the source it was built from
(SOURCE_SHA256), so that a stale build next to a changed source (an editable install,
PYTHONPATH=src) is told apart: tests/test_native_build.py and `git snapshot doctor`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from setuptools import Extension
from setuptools import setup

STORE = "src/git_snapshot/store"


def _module(name: str, macro: str, libraries: list[str]) -> Extension:
    source = f"{STORE}/{name}.c"
    digest = hashlib.sha256((Path(__file__).parent / source).read_bytes()).hexdigest()
    return Extension(
        f"git_snapshot.store.{name}",
        [source],
        define_macros=[(macro, f'"{digest}"')],
        libraries=libraries,
        optional=True,
    )


setup(
    ext_modules=[
        _module("_ctree", "GS_CTREE_SOURCE_SHA256", []),
        _module("_readmany", "GS_READMANY_SOURCE_SHA256", ["crypto"]),
    ]
)
