"""The layout rule, read from the source: the archiving core (``git_snapshot.store``) knows
nothing of git. No module under ``store/`` reaches a module that runs git, by any import: at
the top, inside a function (imported on first use) or through another module. Imports under
``if TYPE_CHECKING:`` are for mypy alone and do not count.

test_store_core's import check sees only what ``import git_snapshot.store`` loads; a function
that imports on first use is seen here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import git_snapshot

SRC = Path(git_snapshot.__file__).resolve().parent
# the modules that run git (docs/ARCHITECTURE.md)
GIT = frozenset(
    {
        "git_snapshot.gitrun",
        "git_snapshot.gitrepo",
        "git_snapshot.gitextra",
        "git_snapshot.gitoverlay",
        "git_snapshot.stashedstore",
    }
)


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _type_checking(test: ast.expr) -> bool:
    """``if TYPE_CHECKING:`` or ``if typing.TYPE_CHECKING:``"""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(tree: ast.AST, name: str, known: dict[str, Path]) -> set[str]:
    """The git_snapshot modules *tree* (the module *name*) imports anywhere, with the packages
    each import runs on the way."""
    found: set[str] = set()
    todo = [tree]
    while todo:
        node = todo.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child.test):
                todo.extend(child.orelse)  # the else branch runs
                continue
            todo.append(child)
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    here = name.split(".")
                    if known[name].name != "__init__.py":
                        here = here[:-1]
                    up = here[: len(here) - child.level + 1]
                    base = ".".join([*up, base] if base else up)
                found.add(base)
                found.update(f"{base}.{a.name}" for a in child.names)
    out = set()
    for module in found:
        parts = module.split(".")
        for i in range(1, len(parts) + 1):  # git_snapshot.store.x runs store/__init__ too
            if ".".join(parts[:i]) in known:
                out.add(".".join(parts[:i]))
    return out


def test_the_store_core_reaches_no_module_that_runs_git() -> None:
    known = _modules()
    edges = {m: _imported(ast.parse(p.read_text("utf-8")), m, known) for m, p in known.items()}
    assert set(known) >= GIT, "a module that runs git was renamed: update GIT"
    bad = []
    for start in sorted(m for m in known if m.startswith("git_snapshot.store")):
        way = {start: [start]}
        todo = [start]
        while todo:
            module = todo.pop()
            for nxt in sorted(edges[module]):
                if nxt not in way:
                    way[nxt] = [*way[module], nxt]
                    todo.append(nxt)
        bad += [" -> ".join(way[g]) for g in sorted(GIT & set(way))]
    assert not bad, "\n".join(bad)
