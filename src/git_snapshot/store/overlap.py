"""A rebuild whose base is not the worktree's last snapshot: two snapshots of one watched
worktree overlapped (a hook and the watcher's, two hooks). Both read the dirty set against
base X; one committed Y; the other, committed after it, is the store's newest snapshot and
must not hold, anywhere, a version older than Y's (a later loss report against it would name
that older version): rebuilt from X with its own marks only, it would hold X's version of a
file written after it read the marks that Y read again.

So it is rebuilt from X with its marks *widened* (:func:`wider`) by every entry whose stored
bytes differ between X's and Y's trees, looked at again: then, for every path, it holds what
the disk holds when it looks, or what X holds where X and Y agree, that is Y's version. The
folders that X holds and Y does not hold as the same folder (gone, a file now, another one
moved in) are listed again with every folder X holds below them: the rebuild keeps a
folder's tree from the base only where its marks say nothing below changed and its mtime is
the base's, and a folder moved away and back keeps its mtime. A folder both hold with other
bytes is rebuilt from X's tree (its names that differ looked at, recursively); one whose
tree is the same but its own entry not (mode, mtime) is looked at without listing it.

This costs reading the trees of the folders that differ between X and Y (as many as Y's own
rebuild changed) and reading again the files Y changed since X: on the scale of Y's rebuild,
against a full walk of the worktree (L: every folder listed, 200k lstat, ~1.2 s of CPU).
"""

from __future__ import annotations

from git_snapshot.store import treebytes
from git_snapshot.store.objects import DIR
from git_snapshot.store.rebuild import _ref
from git_snapshot.store.rebuild import _split

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from typing import Any

    from git_snapshot.store.core import Store
    from git_snapshot.store.rebuild import Marks

_NONE: frozenset[bytes] = frozenset()


class Wider:
    """*marks* (what changed since the base, rebuild.Marks) and what differs between the
    base's trees and the last snapshot's: *names* (folder -> names in it to look at again),
    *touched* (folders with something below to look at: every folder above a name, and
    folders whose own entry differs), *listed* (folders listed again, as a folder mark)."""

    __slots__ = ("listed", "m", "marked", "names", "under")

    def __init__(
        self,
        marks: Marks,
        names: dict[bytes, set[bytes]],
        touched: set[bytes],
        listed: set[bytes],
    ) -> None:
        self.m = marks
        self.names = {k: frozenset(v) for k, v in names.items()}
        self.under = touched  # (not "touched": Rebuild takes that for the whole answer)
        self.listed = listed
        self.marked: Any = getattr(marks, "marked", ())  # (old_trees' read-ahead: its own)

    def changed(self, rel: bytes) -> bool:
        return rel in self.under or self.m.changed(rel)

    def relist(self, rel: bytes) -> bool:
        return rel in self.listed or self.m.relist(rel)

    def look_at(self, rel: bytes) -> frozenset[bytes]:
        more = self.names.get(rel)
        mine = self.m.look_at(rel)
        return mine if more is None else mine | more if mine else more


def wider(store: Store, marks: Marks, base: bytes, last: bytes) -> Wider:
    """*marks* widened by what differs between trees *base* and *last* (see the module).
    Raises rebuild.Unusable, or CorruptObject, when their trees cannot be read."""
    names: dict[bytes, set[bytes]] = {}
    touched: set[bytes] = set()
    gone: list[tuple[bytes, bytes]] = []  # base's folders last does not hold as the same
    level = [(b"", base, last)] if base != last else []
    while level:
        raws = treebytes.load(store, list({k for _, x, y in level for k in (x, y)}))
        nxt = []
        for rel, x, y in level:
            touched.add(rel)
            old = _split(store, x, raws[x])
            new = _split(store, y, raws[y])
            prefix = rel + b"/" if rel else b""
            for name in old.keys() | new.keys():
                ro, rn = old.get(name), new.get(name)
                if ro == rn:
                    continue
                names.setdefault(rel, set()).add(name)
                if ro is None or ro[0] != DIR:
                    continue  # looked at again: whatever is there now is taken as new
                child = prefix + name
                if rn is None or rn[0] != DIR:
                    gone.append((child, _ref(ro)))
                    continue
                touched.add(child)  # rebuilt from the base's tree, its own entry afresh
                if _ref(ro) != _ref(rn):
                    nxt.append((child, _ref(ro), _ref(rn)))
        level = nxt
    listed: set[bytes] = set()
    lone = gone
    while lone:
        raws = treebytes.load(store, list({k for _, k in lone}))
        below = []
        for rel, key in lone:
            listed.add(rel)
            touched.add(rel)
            for name, raw in _split(store, key, raws[key]).items():
                if raw[0] == DIR:
                    names.setdefault(rel, set()).add(name)
                    below.append((rel + b"/" + name, _ref(raw)))
        lone = below
    return Wider(marks, names, touched, listed)
