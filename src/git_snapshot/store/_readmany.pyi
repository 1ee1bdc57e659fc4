# The C module's names: read has the twin's signature (store/readmany_py.py is its specification).
from git_snapshot.store.readmany_py import read as read
from git_snapshot.store.readmany_py import store as store

SOURCE_SHA256: str
INTERFACE: int
MAX_BUDGET: int
