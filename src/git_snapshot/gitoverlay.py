"""Overlays: the contents of tracked files that git or pre-commit took out of the worktree
before a hook runs (git's autostash, pre-commit's patch of unstaged edits), written under a
scratch folder so that the snapshot holds what the user really had; and any tree that is in
no worktree (a stash entry), written out to be snapshotted (:func:`write_tree`).

Imported on first use (``gitrepo.overlay_from_stash`` and the others name it): only a hook
that finds such an overlay, or ``run`` guarding stash entries, loads it.
"""

from __future__ import annotations

import os
import stat

from git_snapshot.ctx import record
from git_snapshot.errors import UserError
from git_snapshot.gitextra import NOT_SET
from git_snapshot.gitextra import _argv_batches
from git_snapshot.gitextra import _pathspec_batches
from git_snapshot.gitextra import check_attr
from git_snapshot.gitrepo import MODE_EXEC
from git_snapshot.gitrepo import MODE_FILE
from git_snapshot.gitrepo import MODE_GITLINK
from git_snapshot.gitrepo import MODE_SYMLINK
from git_snapshot.gitrepo import Repo
from git_snapshot.gitrepo import _check_rev
from git_snapshot.gitrepo import conversion_config
from git_snapshot.gitrepo import split_z
from git_snapshot.gitrun import GitError
from git_snapshot.gitrun import _run
from git_snapshot.gitrun import first_line
from git_snapshot.gitrun import git_env
from git_snapshot.gitrun import run_git
from git_snapshot.words import first_of

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    from typing import IO
    from typing import NamedTuple

    # what a stash (or tree) changed: the files and symlinks (path, git mode, blob id), and
    # the paths deleted (stash_changes)
    Changes = tuple[list[tuple[bytes, int, str]], set[bytes]]

if TYPE_CHECKING:

    class Overlay(NamedTuple):
        """Tracked-file contents that git or pre-commit took out of the worktree."""

        root: str  # directory holding the files, at their relative paths
        files: frozenset[bytes]  # relative paths present under root (files or symlinks)
        deleted: frozenset[bytes]  # relative paths the user had deleted: not in the snapshot

else:  # the same at run time, without typing's NamedTuple on the hook path
    Overlay = record("Overlay", "root files deleted")


def _safe_rel(path: bytes) -> list[bytes]:
    parts = path.split(b"/")
    if not path or path.startswith(b"/") or any(p in (b"", b".", b"..", b".git") for p in parts):
        raise UserError(f"refusing unsafe path from git: {path!r} (check the repository)")
    return parts


def _prepare_dest(root: str, path: bytes) -> str:
    """The absolute target for *path* under *root*, with real (non-symlink) parent dirs."""
    parts = _safe_rel(path)
    cur = os.fsencode(root)
    for comp in parts[:-1]:
        cur = os.path.join(cur, comp)
        try:
            st = os.lstat(cur)
        except FileNotFoundError:
            os.mkdir(cur, 0o755)
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise UserError(f"cannot write {path!r} under {root}: a parent is not a directory")
    target = os.path.join(cur, parts[-1])
    if os.path.lexists(target):
        if os.path.isdir(target) and not os.path.islink(target):
            import shutil  # an overlay over a folder: rare, off the hook's imports

            shutil.rmtree(target)
        else:
            os.unlink(target)
    return os.fsdecode(target)


def _write_entry(root: str, path: bytes, mode: int, stream: IO[bytes], size: int) -> None:
    target = _prepare_dest(root, path)
    if mode == MODE_SYMLINK:
        link = stream.read(size)
        if len(link) != size:
            raise UserError("git cat-file ended early (check the repository with git fsck)")
        os.symlink(link, os.fsencode(target))
        return
    perm = 0o755 if mode == MODE_EXEC else 0o644
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, perm)
    with os.fdopen(fd, "wb") as f:
        remaining = size
        while remaining:
            chunk = stream.read(min(remaining, 1 << 20))
            if not chunk:
                raise UserError("git cat-file ended early (check the repository with git fsck)")
            f.write(chunk)
            remaining -= len(chunk)
    os.chmod(target, perm)


def _write_blobs(repo: Repo, dest: str, entries: list[tuple[bytes, int, str]]) -> None:
    """Write blobs (path, mode, oid) under *dest* as ``git checkout`` would write them, which
    is what the user had on disk: through git's own conversion (:func:`_checkout`) where
    git could convert one, else raw, through one streaming ``cat-file --batch``."""
    if not entries:
        return
    if _may_convert(repo, [p for p, _, _ in entries]):
        _checkout(repo, dest, entries)
    else:
        _write_raw(repo, dest, entries)


# git's conversion between the bytes it stores and the bytes on disk: a clean/smudge filter
# (git lfs), an end of line (eol, text, core.autocrlf), ident, working-tree-encoding


def _may_convert(repo: Repo, paths: list[bytes]) -> bool:
    """Whether git could convert any of *paths* on checkout: false only when no file git
    reads attributes from exists (gitattributes(5): the system's, the global one, the
    repository's info/attributes, a .gitattributes in the worktree on a path's way or among
    *paths*) and core.autocrlf is off or "input". A few stats, no git process: the usual
    repository has no attributes, and a hook that remembers its config has core.autocrlf."""
    cfg = conversion_config(repo)
    if _autocrlf_writes(cfg):
        return True
    if any(os.path.basename(p) == b".gitattributes" for p in paths):
        return True
    return any(os.path.exists(f) for f in _attributes(repo, paths, cfg))


# words of an attribute file under which git may write a blob as other bytes than it stores
# (on a system whose line end is LF): eol=crlf and the old crlf attribute, a filter's smudge,
# ident, working-tree-encoding; text and eol too where core.eol is crlf
_WRITES_OTHERWISE = (b"crlf", b"filter", b"ident", b"encoding")


def written_otherwise(repo: Repo, paths: list[bytes]) -> set[bytes]:
    """Those of *paths* git may write as other bytes than the blob it stores (a checkout's
    smudge filter, CRLF line ends, ident, working-tree-encoding): one ``check-attr``, asked
    only where core.autocrlf is true or an attribute file (:func:`_may_convert`'s) holds a
    word of _WRITES_OTHERWISE (a macro is defined in one of them too). Elsewhere (the usual
    repository; `* text=auto` or `*.png binary` alone) no git process: a few stats and small
    reads, and a file whose raw bytes are a blob git has is what git writes back."""
    wanted = sorted({p for p in paths if p})  # (any name: check_attr takes a newline too)
    cfg = conversion_config(repo)
    crlf = _autocrlf_writes(cfg)
    eol_crlf = cfg.get("core.eol", "").lower() == "crlf"
    if not wanted or not (crlf or _attributes_say(repo, wanted, cfg, eol_crlf)):
        return set()
    attrs = ("text", "eol", "crlf", "filter", "ident", "working-tree-encoding")
    told = check_attr(repo, wanted, attrs)
    if told is None:
        return set(wanted)  # (not known: asked, as git's smudge answers)
    out = set()
    for p in wanted:
        a = told.get(p, {})
        text = a.get(b"text", b"unspecified")
        if any(a.get(k, b"unspecified") not in NOT_SET for k in _SMUDGING):
            out.add(p)
        elif text == b"unset" or a.get(b"crlf") == b"unset":
            continue  # (binary: written as stored)
        elif a.get(b"eol") == b"crlf" or a.get(b"crlf") in (b"set", b"input"):
            out.add(p)  # (the old crlf: set is text; input writes as stored, asked anyway)
        elif crlf or (eol_crlf and text != b"unspecified"):
            out.add(p)  # text (set or auto; any file under core.autocrlf) written with CRLF
    return out


def under_older_rules(repo: Repo, mtimes: dict[bytes, int], taken_ns: int) -> set[bytes]:
    """Of the files *mtimes* (path -> its time in a snapshot taken at *taken_ns*), those older
    than a rule that makes git write them as other bytes than it stores: an attribute file
    on the path's way (:func:`_attributes`) holding a word of _WRITES_OTHERWISE, text or eol,
    or a config file naming autocrlf or eol, as dated before *taken_ns* (one the operation
    rewrote since tells nothing). Git wrote such a file under the rules before: LF bytes it
    wrote, then `git config core.autocrlf true` or a committed `* text=auto eol=crlf` (no
    rewrite), were named at every switch that rewrote the file, though no edit of the
    user's was lost (review RL42). Stats and small reads; no git process."""
    words = (*_WRITES_OTHERWISE, b"text", b"eol")
    dated: dict[bytes, int] = {}

    def date(f: bytes, said: tuple[bytes, ...]) -> int:
        if f not in dated:
            dated[f] = 0
            try:
                with open(f, "rb") as fh:
                    when = os.fstat(fh.fileno()).st_mtime_ns
                    data = fh.read(1 << 20).lower()
            except OSError:
                return 0
            if when <= taken_ns and any(w in data for w in said):
                dated[f] = when
        return dated[f]

    cfg = conversion_config(repo)
    config = max((date(f, (b"autocrlf", b"eol")) for f in _config_files(repo)), default=0)
    return {
        p
        for p, mtime in mtimes.items()
        if mtime < max(config, *(date(f, words) for f in _attributes(repo, [p], cfg)))
    }


def _config_files(repo: Repo) -> list[bytes]:
    """The config files git reads (git-config(1)), whether they exist or not: the system's,
    the global ones, the repository's and the worktree's (includes not followed)."""
    env = os.environ.get
    found = [os.path.join(repo.common_dir, "config"), os.path.join(repo.git_dir, "config.worktree")]
    if env("GIT_CONFIG_GLOBAL"):
        found.append(env("GIT_CONFIG_GLOBAL", ""))
    else:
        xdg = env("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
        found += [os.path.expanduser("~/.gitconfig"), os.path.join(xdg, "git", "config")]
    if env("GIT_CONFIG_NOSYSTEM", "").lower() not in ("1", "true", "yes", "on"):
        prefix = os.path.dirname(os.path.dirname(_which_git()))
        found += [env("GIT_CONFIG_SYSTEM") or "/etc/gitconfig"]
        found.append(os.path.join(prefix, "etc", "gitconfig"))
    return [os.fsencode(f) for f in found]


_SMUDGING = (b"filter", b"ident", b"working-tree-encoding")  # (whatever the line ends)


def _attributes_say(repo: Repo, paths: list[bytes], cfg: dict[str, str], eol_crlf: bool) -> bool:
    """Whether an attribute file git may read for *paths* holds a word of _WRITES_OTHERWISE
    (text and eol too under core.eol=crlf), or is too big to read here."""
    words = _WRITES_OTHERWISE + ((b"text", b"eol") if eol_crlf else ())
    for f in _attributes(repo, paths, cfg):
        try:
            with open(f, "rb") as fh:
                data = fh.read(1 << 20 | 1)
        except OSError:
            continue
        if len(data) > 1 << 20 or any(w in data.lower() for w in words):
            return True
    return False


def _autocrlf_writes(cfg: dict[str, str]) -> bool:
    """Whether core.autocrlf in *cfg* makes git write CRLF (true, not "input")."""
    return cfg.get("core.autocrlf", "false").lower() not in ("false", "no", "off", "0", "", "input")


def _attributes(repo: Repo, paths: list[bytes], cfg: dict[str, str]) -> list[bytes]:
    """The files git may read attributes of *paths* from (gitattributes(5)), whether they
    exist or not: the system's, the global one, the repository's info/attributes and a
    .gitattributes in each folder on a path's way."""
    found = [os.path.join(os.fsencode(repo.common_dir), b"info", b"attributes")]
    named = cfg.get("core.attributesfile")
    if named:
        found.append(os.fsencode(os.path.join(repo.toplevel, os.path.expanduser(named))))
    else:
        xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
        found.append(os.fsencode(os.path.join(xdg, "git", "attributes")))
    if os.environ.get("GIT_ATTR_NOSYSTEM", "").lower() not in ("1", "true", "yes", "on"):
        prefix = os.path.dirname(os.path.dirname(_which_git()))
        found += [b"/etc/gitattributes", os.fsencode(os.path.join(prefix, "etc", "gitattributes"))]
    top = os.fsencode(repo.toplevel)
    folders = {b""}
    for p in paths:
        folder = os.path.dirname(p)
        while folder not in folders:
            folders.add(folder)
            folder = os.path.dirname(folder)
    found += [os.path.join(top, f, b".gitattributes") for f in sorted(folders)]
    return found


def _which_git() -> str:
    """The git on PATH, as shutil.which finds it (shutil: 10 ms of imports on a hook's path)."""
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        exe = os.path.join(folder or os.curdir, "git")
        if os.access(exe, os.X_OK) and not os.path.isdir(exe):
            return exe
    return "/usr/bin/git"


def _checkout(repo: Repo, dest: str, entries: list[tuple[bytes, int, str]]) -> None:
    """Write blobs (path, mode, oid) under *dest* exactly as ``git checkout`` writes them:
    a temporary index holding just them, checked out with ``checkout-index --prefix`` (git's
    own smudge, eol, ident and encoding, with the worktree's attributes). Two git processes.
    git 2.39's ``cat-file --batch --filters`` cannot be read: its header gives the size
    before the conversion."""
    import tempfile  # (a repository with attributes: off the usual hook's imports)

    for path, _, _ in entries:
        _prepare_dest(dest, path)  # real folders, nothing in the way (and the paths checked)
    with tempfile.TemporaryDirectory(prefix="git-snapshot-") as tmp:
        env = git_env({"GIT_INDEX_FILE": os.path.join(tmp, "index")})
        info = b"".join(b"%o %s\t%s\0" % (m, o.encode("ascii"), p) for p, m, o in entries)
        for args, data in (
            (["update-index", "-z", "--index-info"], info),
            (
                ["checkout-index", "-f", "-z", "--stdin", f"--prefix={dest}/"],
                b"".join(p + b"\0" for p, _, _ in entries),
            ),
        ):
            res = _run(repo.toplevel, args, input=data, env=env)
            if res.returncode != 0:
                raise GitError(args, res.returncode, res.stderr)
    bdest = os.fsencode(dest)
    for path, mode, _ in entries:  # the modes the raw writer gives, whatever the umask
        if mode != MODE_SYMLINK:
            os.chmod(os.path.join(bdest, path), 0o755 if mode == MODE_EXEC else 0o644)


def _write_raw(repo: Repo, dest: str, entries: list[tuple[bytes, int, str]]) -> None:
    """Write blobs (path, mode, oid) under *dest* as git stores them, through one streaming
    ``cat-file --batch``."""
    if not entries:
        return
    import subprocess  # git's autostash or a stash entry: off the usual hook's imports
    import threading

    proc = subprocess.Popen(
        ["git", "-C", repo.toplevel, "cat-file", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=git_env(),
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    stdin = proc.stdin
    request = b"".join(oid.encode("ascii") + b"\n" for _, _, oid in entries)

    def feed() -> None:
        try:
            stdin.write(request)
        except BrokenPipeError:
            pass
        finally:
            stdin.close()

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    done = False
    try:
        for path, mode, oid in entries:
            line = proc.stdout.readline()
            header = line.rstrip(b"\n").split(b" ")
            if len(header) != 3 or header[0].decode("ascii", "replace") != oid:
                raise UserError(
                    f"git cat-file --batch could not read object {oid}: "
                    f"{first_line(line) or 'no output'} (check the repository with git fsck)"
                )
            _write_entry(dest, path, mode, proc.stdout, int(header[2]))
            proc.stdout.read(1)  # the LF after each object
        done = True
    finally:
        if not done:
            proc.kill()
        writer.join()
        proc.stdout.close()
        err = proc.stderr.read()
        proc.stderr.close()
        rc = proc.wait()
    if rc != 0:
        raise GitError(["cat-file", "--batch"], rc, err)


def overlay_from_stash(
    repo: Repo, commit: str, dest: str, settled: bool = False, changes: Changes | None = None
) -> Overlay:
    """The user's worktree state of tracked files held in a stash commit (git's autostash),
    as the worktree holds it once git applies the autostash.

    Files that differ between ``commit^1`` (HEAD at stash time) and ``commit`` (the worktree
    tree) are written under *dest* with their modes; files the user deleted are listed in
    ``deleted``. Gitlinks are left out. Where the operation changed those paths or their
    folders already (the hooks after a pull, pre-merge-commit), git applies the autostash as
    a 3-way merge onto the new index: so does :func:`_as_applied` (RED39 B1, B5). With
    *settled*, only what that merge settles (:func:`given_back`'s question). *changes*: the
    caller's :func:`stash_changes` of *commit*, not asked again.
    """
    blobs, deleted = stash_changes(repo, commit) if changes is None else changes
    stashed = {p for p, _, _ in blobs} | deleted
    changed = _changed_since(repo, f"{commit}^1")
    if stashed & changed or _folders(stashed) & _folders(changed):
        blobs, deleted = _as_applied(repo, commit, stashed, settled)
    os.makedirs(dest, exist_ok=True)
    _write_blobs(repo, dest, blobs)
    return Overlay(root=dest, files=frozenset(p for p, _, _ in blobs), deleted=frozenset(deleted))


def given_back(
    repo: Repo, commit: str, paths: list[bytes], dest: str, changes: Changes | None = None
) -> set[bytes]:
    """Those of *paths* (paths the stash *commit* changed) that the worktree holds as git's
    `git stash apply` of it leaves them onto the index of the moment: the file (or link)
    :func:`overlay_from_stash` writes under *dest*, byte for byte, or no file where it
    deletes the path (the edit carried to a name a rename gave the file), while every file it
    writes is on disk as written: the name the edit went to holds it. Asked after the apply
    (a rebase that ran no post-rewrite): a file otherwise is not what the apply left (an
    autostash git never applied, a later edit). A path git's merge cannot settle (a
    conflict: the apply keeps the entry) is none of them; nor is any while the index has
    unmerged paths (GitError, as the apply refuses). *changes*: as overlay_from_stash's."""
    over = overlay_from_stash(repo, commit, dest, settled=True, changes=changes)
    top = os.fsencode(repo.toplevel)
    root = os.fsencode(over.root)

    def written(path: bytes) -> bool:
        return _same_file(os.path.join(top, path), os.path.join(root, path))

    out = set()
    carried: bool | None = None  # every file of the overlay on disk (asked once)
    for path in paths:
        if path in over.files:
            if written(path):
                out.add(path)
        elif path in over.deleted and not os.path.lexists(os.path.join(top, path)):
            # gone from disk is no sign of the apply: a rebase's state folder removed by hand
            # (its autostash never applied) leaves the renamed file without the edit
            if carried is None:
                carried = all(written(p) for p in over.files)
            if carried:
                out.add(path)
    return out


def _same_file(a: bytes, b: bytes) -> bool:
    """Whether *a* and *b* are both regular files of the same bytes and exec bit (a chmod is
    an edit an autostash holds), or links to the same target."""
    try:
        sa, sb = os.lstat(a), os.lstat(b)
        if stat.S_ISLNK(sa.st_mode) and stat.S_ISLNK(sb.st_mode):
            return os.readlink(a) == os.readlink(b)
        if not (stat.S_ISREG(sa.st_mode) and stat.S_ISREG(sb.st_mode)):
            return False
        if sa.st_size != sb.st_size or (sa.st_mode ^ sb.st_mode) & 0o100:
            return False
        with open(a, "rb") as fa, open(b, "rb") as fb:
            while True:
                x, y = fa.read(1 << 16), fb.read(1 << 16)
                if x != y:
                    return False
                if not x:
                    return True
    except OSError:
        return False


def stash_changes(repo: Repo, commit: str) -> Changes:
    """What the stash *commit* changed from ``commit^1`` (HEAD at stash time): the files and
    symlinks it holds (path, git mode, blob id), and the paths it deleted (gitlinks left
    out). Raises GitError (an entry pruned, say)."""
    _check_rev(commit)
    return _tree_changes(repo, f"{commit}^1", commit)


def _tree_changes(repo: Repo, old: str, new: str) -> Changes:
    """The files and symlinks tree-ish *new* holds where it differs from *old* (path, git
    mode, blob id), and the paths it lacks (gitlinks left out)."""
    out = run_git(repo.toplevel, "diff-tree", "-r", "-z", "--no-renames", old, new)
    recs = split_z(out)
    blobs: list[tuple[bytes, int, str]] = []
    deleted: set[bytes] = set()
    for i in range(0, len(recs) - 1, 2):
        meta = recs[i].lstrip(b":").split(b" ")
        path = recs[i + 1]
        new_mode = int(meta[1], 8)
        new_oid = meta[3].decode("ascii")
        status = meta[4][:1]
        if status == b"D":
            if int(meta[0], 8) != MODE_GITLINK:
                deleted.add(path)
        elif new_mode in (MODE_FILE, MODE_EXEC, MODE_SYMLINK):
            blobs.append((path, new_mode, new_oid))
    return blobs, deleted


# git applies its autostash (`git stash apply`) as a 3-way merge: base the stash's first
# parent, ours the index of the moment (after a pull: the new HEAD), theirs the stash


def _changed_since(repo: Repo, base: str) -> set[bytes]:
    """The paths the index holds otherwise than commit *base* (one git process: nothing
    after a plain stash, whose index is *base*'s tree)."""
    args = ["diff-index", "--cached", "-z", "--name-only", "--no-renames", base]
    return set(split_z(run_git(repo.toplevel, *args)))


def _folders(paths: set[bytes]) -> set[bytes]:
    """Every folder above one of *paths* (the top left out). The operation changed a path
    in a folder of the stash's: git's apply may carry the stash's file elsewhere (directory
    rename detection: a file the stash adds in a folder renamed whole goes with it)."""
    found: set[bytes] = set()
    for path in paths:
        folder = os.path.dirname(path)
        while folder and folder not in found:
            found.add(folder)
            folder = os.path.dirname(folder)
    return found


def _as_applied(
    repo: Repo, commit: str, stashed: set[bytes], settled: bool = False
) -> tuple[list[tuple[bytes, int, str]], set[bytes]]:
    """:func:`stash_changes` of the autostash *commit* (whose paths are *stashed*) as git's
    apply leaves them: the clean 3-way merge's files where it differs from the index (the
    edit carried to the name an upstream rename gave the file) and the paths the merge
    lacks. A path the merge cannot settle (a conflict: git keeps the stash entry and writes
    markers; binary; a merge driver) gets the index's version, on disk now: no version that
    never existed is claimed, and every stashed path stays in the overlay (hidden by git, so
    not lost). With *settled*, a path the merge cannot settle is left out, and an index
    git's apply would refuse raises GitError: what the apply gives, asked after it."""
    try:
        ours = run_git(repo.toplevel, "write-tree").strip().decode("ascii")
        merged, conflicted = _merge_tree(repo, commit, ours)
    except GitError:  # an unmerged index, say: git's apply would refuse too
        if settled:
            raise
        return _index_versions(repo, stashed)
    blobs, deleted = _tree_changes(repo, ours, merged)
    blobs = [b for b in blobs if b[0] not in conflicted]
    deleted -= conflicted
    shown = {p for p, _, _ in blobs} | deleted
    rest = (stashed - conflicted if settled else stashed | conflicted) - shown
    held, gone = _index_versions(repo, rest)
    return blobs + held, deleted | gone


def _merge_tree(repo: Repo, commit: str, ours: str) -> tuple[str, set[bytes]]:
    """The tree of git's 3-way merge of the stash *commit* into tree *ours* over
    ``commit^1``, and the paths it could not merge. git 2.39's ``merge-tree --write-tree``
    takes no merge base (``--merge-base`` is 2.40's): *ours* is put in a commit whose one
    parent is ``commit^1``, the two commits' only merge base (written as git writes a stash:
    an object that gc drops). Custom merge drivers are not run from a hook: each one is
    made to fail, a conflict."""
    fixed = {
        "GIT_AUTHOR_NAME": "git-snapshot",
        "GIT_AUTHOR_EMAIL": "git-snapshot@localhost",
        "GIT_AUTHOR_DATE": "@0 +0000",
        "GIT_COMMITTER_NAME": "git-snapshot",
        "GIT_COMMITTER_EMAIL": "git-snapshot@localhost",
        "GIT_COMMITTER_DATE": "@0 +0000",
    }
    args = ["commit-tree", "-p", f"{commit}^1", "-m", "git-snapshot: autostash base", ours]
    res = _run(repo.toplevel, args, env=git_env(fixed))
    if res.returncode != 0:
        raise GitError(args, res.returncode, res.stderr)
    side = res.stdout.strip().decode("ascii")
    args = [x for name in _merge_drivers(repo) for x in ("-c", f"merge.{name}.driver=false")]
    args += ["merge-tree", "--write-tree", "-z", "--name-only", "--no-messages", side, commit]
    res = _run(repo.toplevel, args)
    if res.returncode not in (0, 1):
        raise GitError(args, res.returncode, res.stderr)
    # the tree's id, then (on a conflict) the paths that have one, up to an empty record
    tree, _, rest = res.stdout.partition(b"\0")
    names = rest.split(b"\0\0", 1)[0] if res.returncode == 1 else b""
    return tree.decode("ascii"), set(split_z(names))


def _merge_drivers(repo: Repo) -> list[str]:
    """The names of the merge drivers the configuration defines (``merge.NAME.driver``)."""
    args = ["config", "-z", "--name-only", "--get-regexp", r"^merge\..*\.driver$"]
    res = _run(repo.toplevel, args)
    if res.returncode not in (0, 1):
        raise GitError(args, res.returncode, res.stderr)
    names = []
    for rec in split_z(res.stdout):
        key = rec.decode("utf-8", "surrogateescape")
        names.append(key[len("merge.") : -len(".driver")])
    return names


def _index_versions(
    repo: Repo, paths: set[bytes]
) -> tuple[list[tuple[bytes, int, str]], set[bytes]]:
    """The index's files and symlinks at *paths* (what is on disk right after the operation),
    and those of *paths* it does not hold, but a folder on disk (the operation made one of a
    file: an overlay's deleted path leaves out all under it)."""
    found = [e for e in _index_entries(repo, sorted(paths)) if e[1] != MODE_GITLINK]
    held = {p for p, _, _ in found}
    top = os.fsencode(repo.toplevel)
    return found, {p for p in paths - held if not _is_dir(os.path.join(top, p))}


def _is_dir(path: bytes) -> bool:
    """A real folder at *path* (not a link to one)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


# pre-commit's stash of unstaged edits (finding its patch is precommit.patch's job)


def _isolated_env(dest: str) -> dict[str, str]:
    """An environment in which git run in *dest* finds no repository at all."""
    parent = os.path.dirname(os.path.realpath(dest)) or "/"
    return git_env({"GIT_CEILING_DIRECTORIES": parent})


def _patch_paths(patch: str, dest: str, env: dict[str, str]) -> list[bytes]:
    res = _run(dest, ["apply", "--numstat", "-z", patch], env=env)
    if res.returncode != 0:
        raise GitError(["apply", "--numstat", "-z", patch], res.returncode, res.stderr)
    paths: list[bytes] = []
    recs = split_z(res.stdout)
    i = 0
    while i < len(recs):
        rec = recs[i]
        _, _, rest = rec.partition(b"\t")
        _, _, path = rest.partition(b"\t")
        if path:
            paths.append(path)
            i += 1
        else:  # a rename or copy: "added\tdeleted\t\0old\0new\0"
            paths.extend(recs[i + 1 : i + 3])
            i += 3
    return paths


def overlay_from_patch(repo: Repo, patch: str, dest: str) -> Overlay:
    """The user's real content of the files that pre-commit's patch touches.

    The index version of each touched file is written under *dest* (what pre-commit left in
    the worktree and what the patch was made against), then the patch is applied there by
    ``git apply`` run so that it sees no repository, whatever the environment holds. The
    patch holds git's stored form (``diff-index``: a clean filter's output, LF): where git
    could convert a file (:func:`_may_convert`) the index versions are written in that form
    and the results turned into the working-tree form as git's checkout writes them (what
    pre-commit's own ``git apply`` puts back). A patch that does not apply is a UserError
    that names the files and the patch: the caller snapshots without them.
    """
    os.makedirs(dest, exist_ok=True)
    dest = os.path.realpath(dest)
    if os.path.lexists(os.path.join(dest, ".git")):
        raise UserError(
            f"refusing to apply a patch in {dest}: it is a git worktree (use a new dir)"
        )
    patch = os.path.abspath(patch)
    paths: list[bytes] = []
    try:
        env = _isolated_env(dest)
        paths = list(dict.fromkeys(_patch_paths(patch, dest, env)))
        return _read_back(repo, patch, dest, paths, env)
    except UserError as exc:  # (a GitError too)
        raise UserError(_not_applied(paths, patch, exc)) from exc


def _read_back(
    repo: Repo, patch: str, dest: str, paths: list[bytes], env: dict[str, str]
) -> Overlay:
    """:func:`overlay_from_patch`'s work, for the *paths* the patch touches."""
    for p in paths:
        _safe_rel(p)
    convert = _may_convert(repo, paths)
    base = _index_entries(repo, paths)
    if convert:
        _write_raw(repo, dest, [e for e in base if e[1] != MODE_GITLINK])
    elif base:
        run_git(
            repo.toplevel,
            "checkout-index",
            "-f",
            "-z",
            "--stdin",
            f"--prefix={dest}/",
            input=b"".join(p + b"\0" for p, _, _ in base),
        )
    args = ["apply", "--binary", "--whitespace=nowarn", patch]
    res = _run(dest, args, env=env)
    if res.returncode != 0:
        res = _run(dest, ["-c", "core.autocrlf=false", *args], env=env)
        if res.returncode != 0:
            raise GitError(args, res.returncode, res.stderr)
    bdest = os.fsencode(dest)
    present = frozenset(p for p in paths if os.path.lexists(os.path.join(bdest, p)))
    if convert:
        _smudge_in_place(repo, dest, sorted(present))
    return Overlay(root=dest, files=present, deleted=frozenset(paths) - present)


def _index_entries(repo: Repo, paths: list[bytes]) -> list[tuple[bytes, int, str]]:
    """(path, mode, blob id) of those of *paths* the index holds, merged (every path of a
    diff-index patch is in the index; stay safe if the index changed since)."""
    touched = set(paths)
    found: list[tuple[bytes, int, str]] = []
    for batch in _pathspec_batches(paths):
        out = run_git(repo.toplevel, "--literal-pathspecs", "ls-files", "-s", "-z", "--", *batch)
        for rec in split_z(out):
            meta, _, path = rec.partition(b"\t")
            mode, oid, stage = meta.split(b" ")
            if path in touched and stage == b"0":
                found.append((path, int(mode, 8), oid.decode("ascii")))
    return found


def _smudge_in_place(repo: Repo, dest: str, paths: list[bytes]) -> None:
    """Turn the files at *paths* under *dest*, in git's stored form, into what git checkout
    writes for them. git converts only a blob: the bytes are stored first (``hash-object
    -w``: the objects ``git add`` of the user's edits would make; git's gc drops them)."""
    bdest = os.fsencode(dest)
    # regular files only, by lstat: git converts no link (one to a file is not that file)
    modes = {p: st.st_mode for p in paths if (st := _lstat(os.path.join(bdest, p))) is not None}
    files = [p for p in paths if p in modes]
    oids: list[bytes] = []
    for batch in _argv_batches(os.path.join(bdest, p) for p in files):
        oids += run_git(repo.toplevel, "hash-object", "-w", "--no-filters", "--", *batch).split()
    entries = [
        (path, MODE_EXEC if modes[path] & 0o100 else MODE_FILE, oid.decode("ascii"))
        for path, oid in zip(files, oids, strict=True)
    ]
    if entries:
        _checkout(repo, dest, entries)


def _lstat(path: bytes) -> os.stat_result | None:
    """The lstat of the regular file at *path*; None for anything else, or nothing."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st if stat.S_ISREG(st.st_mode) else None


def _not_applied(paths: list[bytes], patch: str, exc: UserError) -> str:
    """The one line for a pre-commit patch that could not be read back: which edits the
    snapshot lacks, where they are, and git's word on why."""
    names = [os.fsdecode(p) for p in paths]
    shown = first_of(names)
    why = first_line(exc.stderr) if isinstance(exc, GitError) else ""
    return (
        f"this snapshot lacks your unstaged edits to {shown or 'tracked files'}: pre-commit "
        f"set them aside in {patch} (and puts them back), which could not be read back here "
        f"({why or exc})"
    )


def write_tree(repo: Repo, rev: str, dest: str) -> list[bytes]:
    """Write every file and symlink of commit/tree *rev* under *dest* (gitlinks left out);
    returns their paths. How a tree that is in no worktree (a stash entry) is snapshotted."""
    _check_rev(rev)
    os.makedirs(dest, exist_ok=True)
    out = run_git(repo.toplevel, "ls-tree", "-r", "-z", "--full-tree", rev)
    blobs: list[tuple[bytes, int, str]] = []
    for rec in split_z(out):
        meta, _, path = rec.partition(b"\t")
        mode, _type, oid = meta.split(b" ")
        if int(mode, 8) in (MODE_FILE, MODE_EXEC, MODE_SYMLINK):
            blobs.append((path, int(mode, 8), oid.decode("ascii")))
    _write_blobs(repo, dest, blobs)
    return [p for p, _, _ in blobs]
