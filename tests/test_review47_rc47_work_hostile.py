"""Review RC47 of 4898c82 (_ctree.work, the job a writer gets, in C): what the C declined
and what it did not. It read an entry through the tuple's own slots where the twin
(restore_write._work_py) calls its class's __getitem__, took a dict subclass's lookup past its
__missing__ and raised TypeError for a numbering the twin can index: three answers other than
the twin's. And it read the job's list through borrowed references while a folder's ``fd``
attribute could run code that empties the list: a crash (use after free). Now it declines
(None, the twin runs) for all but a list, None or a dict, and entries whose class has tuple's
own subscript, and holds the items while it reads. The references to a folder's fd and its
number are given back (a leak of them was unseen by test_rc47_work)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from ctreehelp import keeps_nothing
from ctreehelp import native as _ctree

from git_snapshot.store import restore_write
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import Entry
from git_snapshot.store.restore_write import _NOWHERE
from git_snapshot.store.restore_write import _Dir

needs_c = pytest.mark.skipif(
    _ctree is None or not hasattr(_ctree, "work"), reason="_ctree.work not built"
)
T = 1_600_000_000_123_456_789
E = Entry(b"f\xe9", FILE, 0o644, T, 1, b"k" * 32)
LOC = ("p", 0, 1, 1, -1)


class _Numbers(dict):  # type: ignore[type-arg]
    def __missing__(self, fd: int) -> int:
        return 99


class _Listed(Entry):
    def __getitem__(self, i: Any) -> Any:
        return b"listed"


def _cases() -> list[tuple[str, list[Any], Any]]:
    d = _Dir(5, None)
    listed = _Listed(*E)
    return [
        ("a dict with __missing__", [(LOC, d, E, b"")], _Numbers({6: 0})),
        ("a list for numbers", [(LOC, _Dir(1, None), E, b"")], [10, 11]),
        ("an entry with its own __getitem__", [(LOC, d, listed, b"")], None),
    ]


@needs_c
@pytest.mark.parametrize("case", range(3), ids=[c[0] for c in _cases()])
def test_work_gives_the_twins_answer_for_what_the_twin_reads_otherwise(case: int) -> None:
    _, ready, number = _cases()[case]
    want = restore_write._work_py(ready, number)
    assert _ctree.work(ready, number, _NOWHERE) is None  # (declined: the twin runs)
    assert restore_write._work(ready, number) == want


_REENTER = r"""
from git_snapshot.store import _ctree
from git_snapshot.store.objects import FILE, Entry
from git_snapshot.store.restore_write import _NOWHERE
class Folder:
    @property
    def fd(self):
        ready.clear()  # the items the C read through the list are freed
        return 5
ready = [(("p", i, 1, 1, -1), Folder(), Entry(b"f%d" % i, FILE, 0o644, i, 1, b"k" * 32), b"")
         for i in range(64)]
got = _ctree.work(ready, None, _NOWHERE)
print(len(got), got[63][1])
"""


@needs_c
def test_a_folder_whose_fd_empties_the_job_is_no_crash() -> None:
    ran = subprocess.run([sys.executable, "-c", _REENTER], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.split() == ["64", "b'f63'"]


@needs_c
def test_work_gives_back_its_references_to_the_fds_and_their_numbers() -> None:
    fd, k = 10**6 + 5, 10**6 + 7  # (not cached ints: their references are their own)
    d = _Dir(fd, None)
    good = [(LOC, d, E, b""), (_NOWHERE, d, E, b"")]
    numbers = {fd: k}
    calls = [(good, None, _NOWHERE), (good, numbers, _NOWHERE), (good, {6: 0}, _NOWHERE)]
    keeps_nothing(_ctree.work, calls, [d, E, fd, k, numbers])
