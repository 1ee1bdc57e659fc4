"""``git snapshot hook NAME [ARG...]``: the entry point the hook shims call (hidden from -h)."""

from __future__ import annotations

from collections.abc import Sequence


def cmd_hook(*, cwd: str, name: str, args: Sequence[str] = ()) -> int:
    from git_snapshot import hooks  # imported here: the one command every git operation runs

    return hooks.run_hook(name, list(args), cwd=cwd)
