"""For the tests that watch or fail ``os.open``/``os.read`` to see what a walk reads: the
``python_reads`` fixture makes the walk read each file in Python (``reading._read_listed``),
not in the C batches of ``_readmany``, which make the same system calls where no monkeypatch
sees them (tests/test_readmany.py holds the C to its Python twin)."""

from __future__ import annotations

import pytest

from git_snapshot.store import walker


@pytest.fixture
def python_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(walker, "_fast_read", None)
