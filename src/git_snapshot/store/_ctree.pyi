# The C module's names: build has the twin's signature (store/ctree_py.py is its specification).
import os
from typing import Any

from typing_extensions import Buffer

from git_snapshot.store.ctree_py import build as build
from git_snapshot.store.objects import Entry

def fill(
    dirs: dict[bytes, bytes], pos: int, buf: bytearray, at: int, limit: int, piece: int, /
) -> tuple[int, int, int]: ...
def entries(data: bytes, entry_type: type[Entry], /) -> tuple[list[Entry], int] | None: ...
def crc32(data: Buffer, value: int = 0, /) -> int: ...
def gather(
    entries: list[Entry], folder: object, rel: bytes, locs: object, whole: int, /
) -> tuple[list[tuple[object, ...]], list[Entry], int, bool] | None: ...
def plan_tree(
    data: bytes, path: bytes, shared: int, whole: int, /
) -> tuple[list[tuple[bytes, bytes]], int, list[bytes], list[bytes]] | None: ...
def in_storage_order(items: list[Any], /) -> list[Any] | None: ...
def share_out(
    ready: list[Any], load: list[int], owner: dict[Any, int], nowhere: object, file_cost: int, /
) -> list[list[Any]] | None: ...
def work(
    ready: list[Any], number: dict[int, int] | None, nowhere: object, /
) -> list[Any] | None: ...

SOURCE_SHA256: str
INTERFACE: int
RECORD_HEAD: int
STAT_SIZE: int
KEY_SIZE: int
ENTRY_HEAD: int
CRC32_CLMUL: int

def lstats(pre: bytes, names: list[bytes], /) -> tuple[bytes, list[os.stat_result]] | None: ...
