"""Names in one line of text: the first few, and how many more. Imports nothing: the hooks,
the store and the commands all use it."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import Sequence


def first_of(texts: Sequence[str], shown: int = 3) -> str:
    """ "a, b, c and 2 more": the first *shown* of *texts*, joined, and the count of the rest."""
    first = ", ".join(texts[:shown])
    return first + (f" and {len(texts) - shown} more" if len(texts) > shown else "")
