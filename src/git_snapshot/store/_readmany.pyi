# The C module's names: read has the twin's signature (store/readmany_py.py is its specification).
from git_snapshot.store.readmany_py import read as read
from git_snapshot.store.readmany_py import store as store

SOURCE_SHA256: str
INTERFACE: int
MAX_BUDGET: int

PUT_INTERFACE: int

# A restore's writers' loop: store/restore_write.py's Writing._put_files_py is its specification.
def put(
    work: list[tuple[int, bytes, int, int, bytes, tuple[str, int, int, int, int] | None]],
    i: int,
    j: int,
    content: bytes | list[bytes | None] | None,
    why: str | None,
    parent_pid: int,
    proc: int,
    umask: int,
    taken: list[int],
    damaged: list[tuple[int, bytes, str]],
    kept: dict[bytes, bytes],
    shared: set[bytes],
    room: int,
) -> tuple[int, int, int, str | None, int]: ...
