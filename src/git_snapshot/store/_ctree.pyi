from collections.abc import Callable
from collections.abc import Container
from typing import Any

SOURCE_SHA256: str
RECORD_HEAD: int
STAT_SIZE: int
KEY_SIZE: int
ENTRY_HEAD: int

def build(
    names: list[bytes],
    stats: bytes,
    old: bytes | None,
    hn: int,
    same: bool,
    where: dict[bytes, int],
    damaged: Container[bytes] | None,
    hidden: Container[bytes] | None,
    general: bool,
    classify: Callable[[bytes, bool, int], int] | None,
    exclude: Callable[[bytes, bool], bool] | None,
    rel: bytes,
    label: int,
    other: Callable[[list[int]], list[tuple[Any, bytes, bytes]]],
) -> tuple[bytes, bytes, bytes, int, int]: ...
