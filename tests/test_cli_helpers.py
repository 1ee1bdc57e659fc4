"""Helpers shared by the command-line tests (this module holds no tests).

``gs()`` runs the real ``git snapshot`` as a subprocess; ``tree_state()`` records a directory
byte for byte (kind, mode, mtime in ns, content or link target) so that a restore can be
compared exactly with what was there; ``build_rich_worktree()`` makes a worktree holding every
kind of file the product has to save.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from clihelpers import Ran
from clihelpers import git

from git_snapshot.cli import main

NON_UTF8 = b"caf\xe9"  # a name that is not UTF-8: must round-trip as bytes
BASE_NS = 1_500_000_000_123_456_789  # distinctive mtimes, with nanoseconds

# path -> (kind, permission bits, mtime_ns, content or link target)
State = dict[bytes, tuple[str, int, int, bytes]]


def query(cwd: Path | str, *args: str) -> Any:
    """Run a read-only ``git snapshot ... --json`` in this process (faster) and parse it."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["-C", str(cwd), *args, "--json"])
    assert rc == 0, err.getvalue()
    return json.loads(out.getvalue())


def snap_id(ran: Ran) -> int:
    """The id printed by ``git snapshot`` / ``git snapshot create``."""
    m = re.search(r"^snapshot (\d+):", ran.out, re.M)
    assert m, ran.out
    return int(m.group(1))


def tree_state(root: Path | str, skip: Iterable[bytes] = (b".git",)) -> State:
    """Everything below *root* (not root itself), as lstat and the bytes see it."""
    skipped = set(skip)
    out: State = {}

    def walk(directory: bytes, rel: bytes) -> None:
        for name in sorted(os.listdir(directory)):
            r = rel + name
            if r in skipped:
                continue
            full = directory + b"/" + name
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                out[r] = ("link", 0, st.st_mtime_ns, os.readlink(full))
            elif stat.S_ISDIR(st.st_mode):
                out[r] = ("dir", stat.S_IMODE(st.st_mode), st.st_mtime_ns, b"")
                walk(full, r + b"/")
            elif stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    out[r] = ("file", stat.S_IMODE(st.st_mode), st.st_mtime_ns, f.read())
            else:
                out[r] = ("special", stat.S_IMODE(st.st_mode), st.st_mtime_ns, b"")

    walk(os.fsencode(root), b"")
    return out


def state_diff(
    want: State, got: State, mtime_slack_ns: int = 0, link_mtimes: bool = True
) -> list[str]:
    """Readable differences between two states (empty when they match)."""
    problems = []
    for path in sorted(want.keys() | got.keys()):
        a, b = want.get(path), got.get(path)
        if a is None or b is None:
            problems.append(f"{path!r}: {'missing' if b is None else 'unexpected'}")
            continue
        if a[0] != b[0] or a[1] != b[1] or a[3] != b[3]:
            problems.append(f"{path!r}: want {a[:2]} {a[3][:40]!r}, got {b[:2]} {b[3][:40]!r}")
        elif (link_mtimes or a[0] != "link") and abs(a[2] - b[2]) > mtime_slack_ns:
            problems.append(f"{path!r}: mtime want {a[2]}, got {b[2]}")
    return problems


def git_dir_state(repo: Path) -> dict[bytes, bytes]:
    """Every file of the repository's .git (path -> sha256 of content or link target)."""
    out: dict[bytes, bytes] = {}
    base = os.fsencode(repo / ".git")
    for root, _dirs, files in os.walk(base):
        for name in files:
            full = os.path.join(root, name)
            if os.path.islink(full):
                out[full[len(base) :]] = os.readlink(full)
            else:
                with open(full, "rb") as f:
                    out[full[len(base) :]] = hashlib.sha256(f.read()).digest()
    return out


def wipe(root: Path) -> None:
    """Delete everything in *root* except its .git."""
    for name in os.listdir(os.fsencode(root)):
        if name == b".git":
            continue
        full = os.path.join(os.fsencode(root), name)
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full)
        else:
            os.unlink(full)


def write(path: Path, data: bytes | str, mode: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    if mode is not None:
        path.chmod(mode)
    return path


def set_mtimes(root: Path) -> None:
    """Give every entry below *root* (not .git) its own mtime with nanoseconds, children first
    so that directory mtimes stay as set."""
    base = os.fsencode(root)
    n = 0
    for dirpath, dirs, files in os.walk(base, topdown=False):
        rel = dirpath[len(base) :].lstrip(b"/")
        if rel == b".git" or rel.startswith(b".git/"):
            continue
        for name in sorted(files) + sorted(d for d in dirs if os.path.islink(dirpath + b"/" + d)):
            n += 1
            t = BASE_NS + n * 1_000_000_007
            os.utime(dirpath + b"/" + name, ns=(t, t), follow_symlinks=False)
        for name in sorted(d for d in dirs if not os.path.islink(dirpath + b"/" + d)):
            if rel == b"" and name == b".git":
                continue
            n += 1
            t = BASE_NS + n * 1_000_000_007
            os.utime(dirpath + b"/" + name, ns=(t, t), follow_symlinks=False)


IGNORE = "node_modules/\n.env\n*.log\nbuild/\n"


def build_rich_worktree(repo: Path, modules: int = 300) -> None:
    """Tracked (committed), staged, unstaged-modified, untracked and ignored files, .env 0600,
    a node_modules tree, symlinks (dangling, to a dir, absolute), empty dirs, executables and a
    non-UTF-8 name; every mtime distinct and with nanoseconds."""
    write(repo / ".gitignore", IGNORE)
    write(repo / "src" / "main.py", "print('main')\n")
    write(repo / "src" / "util.py", "X = 1\n")
    write(repo / "bin" / "run.sh", "#!/bin/sh\necho run\n", 0o755)
    write(repo / "private" / "key.txt", "k\n", 0o640)
    (repo / "private").chmod(0o700)
    os.symlink("README", repo / "readme-link")  # a tracked symlink
    git(repo, "add", ".gitignore", "src", "bin", "private", "readme-link")
    git(repo, "commit", "-q", "-m", "content")
    write(repo / "src" / "new.py", "staged new file\n")
    git(repo, "add", "src/new.py")
    write(repo / "src" / "util.py", "X = 2  # staged edit\n")
    git(repo, "add", "src/util.py")
    write(repo / "README", "hello\nunstaged edit\n")
    write(repo / "src" / "main.py", "print('main, unstaged')\n")
    write(repo / "notes.txt", "untracked notes\n")
    write(repo / "tool.sh", "#!/bin/sh\necho tool\n", 0o755)
    with open(os.path.join(os.fsencode(repo), NON_UTF8), "wb") as f:
        f.write(b"non-utf8 name\n")
    write(repo / ".env", "SECRET=hunter2\n", 0o600)
    write(repo / "debug.log", "log line\n")
    write(repo / "build" / "out.bin", bytes(range(256)) * 40)
    for i in range(modules):
        write(repo / "node_modules" / f"pkg{i % 20}" / "lib" / f"f{i}.js", f"module.exports={i}\n")
    os.symlink("does/not/exist", repo / "dangling")
    os.symlink("src", repo / "dirlink")
    os.symlink("/nonexistent/absolute/target", repo / "abslink")
    (repo / "empty").mkdir()
    (repo / "empty2" / "inner").mkdir(parents=True)
    set_mtimes(repo)
