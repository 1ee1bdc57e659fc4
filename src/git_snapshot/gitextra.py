"""The git calls no hook of an unchanged worktree makes: what an operation changed (diff-tree,
diff-index, status), commits and blobs (rev-parse, cat-file, ls-tree), dates, colour and
pager. The overlays of git's autostash and pre-commit's stash are :mod:`git_snapshot.gitoverlay`.

Split from :mod:`git_snapshot.gitrepo` so that a hook loads only what it calls (gitrepo's
compiled module was 83 KB); ``gitrepo`` still names every function here (its module
``__getattr__`` imports this module on first use), so callers write ``gitrepo.rev(...)``.
"""

from __future__ import annotations

import os
import time

from git_snapshot.errors import UserError
from git_snapshot.gitrepo import _STAT_KEYS
from git_snapshot.gitrepo import MODE_EXEC
from git_snapshot.gitrepo import MODE_FILE
from git_snapshot.gitrepo import Repo
from git_snapshot.gitrepo import _check_rev
from git_snapshot.gitrepo import _config_record
from git_snapshot.gitrepo import _read_text
from git_snapshot.gitrepo import _rev_parse_path
from git_snapshot.gitrepo import _scoped_config
from git_snapshot.gitrepo import autostash_commit
from git_snapshot.gitrepo import autostash_stored
from git_snapshot.gitrepo import head
from git_snapshot.gitrepo import is_null_oid
from git_snapshot.gitrepo import is_oid
from git_snapshot.gitrepo import patch_subject
from git_snapshot.gitrepo import split_z
from git_snapshot.gitrun import GitError
from git_snapshot.gitrun import _run
from git_snapshot.gitrun import first_line
from git_snapshot.gitrun import git_env
from git_snapshot.gitrun import run_git

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    from collections.abc import Iterable
    from collections.abc import Iterator
    from collections.abc import Mapping
    from collections.abc import Sequence


def colorbool(cwd: str, name: str, tty: bool) -> bool:
    """Whether git colours output governed by *name* (e.g. ``color.snapshot``; unset, then
    ``color.ui``; unset, git's auto) that goes to a terminal (*tty*) or not: ``git config
    --get-colorbool``, so "auto", "always", TERM=dumb and the rest mean what they mean to git.
    A value git cannot read is a UserError, as git's own commands stop on it."""
    res = _run(cwd, ["config", "--get-colorbool", name, "true" if tty else "false"])
    if res.returncode != 0:
        why = first_line(res.stderr).removeprefix("fatal: ")
        if "config value" in why:
            raise UserError(f"{why} in git config: use auto, always, never, true or false")
        return False  # not a place git can read config from: no colour, said nowhere
    return res.stdout.strip() == b"true"


def pager(cwd: str) -> str | None:
    """The pager git would start for ``git snapshot`` in *cwd*, or None for none. As git
    chooses: pager.snapshot false means none and a command there is the pager (unless
    GIT_PAGER is set); else ``git var GIT_PAGER`` (GIT_PAGER, core.pager, PAGER, git's
    default); "cat" or nothing means none."""
    res = _run(cwd, ["config", "--type=bool", "pager.snapshot"])
    if res.returncode == 0 and res.stdout.strip() == b"false":
        return None
    command = ""
    if res.returncode not in (0, 1) and "GIT_PAGER" not in os.environ:  # not a boolean
        raw = _run(cwd, ["config", "pager.snapshot"])
        command = raw.stdout.decode("utf-8", "surrogateescape").strip()
    if not command:
        out = _run(cwd, ["var", "GIT_PAGER"])
        command = (
            out.stdout.decode("utf-8", "surrogateescape").strip() if out.returncode == 0 else ""
        )
    return None if command in ("", "cat") else command


def changed_paths(repo: Repo, old: str | None, new: str) -> list[bytes]:
    """Paths whose tree entry differs between commits *old* and *new* (no rename detection).

    With *old* None or all zeros (a clone, a new worktree), every path of *new*; with *new*
    all zeros (`git switch --orphan`: a branch with no commit yet, whose tree git writes as
    empty, deleting every file of *old*), every path of *old*.
    """
    if is_null_oid(old):
        _check_rev(new)
        out = run_git(repo.toplevel, "ls-tree", "-r", "-z", "--name-only", "--full-tree", new)
        return split_z(out)
    assert old is not None
    if is_null_oid(new):
        return changed_paths(repo, None, old)
    _check_rev(new)
    _check_rev(old)
    out = run_git(repo.toplevel, "diff-tree", "-r", "-z", "--no-renames", "--name-only", old, new)
    return split_z(out)


def as_user_env(cwd: str) -> tuple[str, str] | None:
    """The git dir and worktree git itself works on in *cwd* with the user's environment
    (GIT_DIR, GIT_WORK_TREE kept: every other call drops them); None where it finds none."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}
    asked = ["--absolute-git-dir", "--show-toplevel"]
    res = _run(cwd, ["rev-parse", *asked], env=env)
    lines = res.stdout.split(b"\n")
    if res.returncode != 0:
        return None
    if len(lines) != 3:  # a path holding a newline: each asked alone (as gitrepo.discover)
        try:
            lines = [_rev_parse_path(cwd, [arg], env) for arg in asked]
        except GitError:
            return None
    return os.fsdecode(lines[0]), os.fsdecode(lines[1])


def am_paths(repo: Repo) -> list[bytes]:
    """The paths the patches of the `git am` starting now write (a rename's new name: its old
    one is tracked, in HEAD), from the mails it split into ``rebase-apply/0001``..."""
    folder = os.path.join(repo.git_dir, "rebase-apply")
    mails = sorted(n for n in os.listdir(folder) if n.isdigit())
    if not mails:
        return []
    out = run_git(
        repo.toplevel,
        "apply",
        "--numstat",
        "-z",
        "--allow-empty",
        *(os.path.join(folder, n) for n in mails),
    )
    # "ADDED\tDELETED\tPATH\0" a file (a path may hold a tab: the first two split it off)
    return [word.split(b"\t", 2)[2] for word in out.split(b"\0") if word.count(b"\t") >= 2]


def staged_paths(repo: Repo, rev: str) -> list[bytes]:
    """Paths whose index entry differs from commit *rev* (what a squash merge staged)."""
    _check_rev(rev)
    out = run_git(repo.toplevel, "diff-index", "--cached", "-z", "--no-renames", "--name-only", rev)
    return split_z(out)


def index_paths(repo: Repo, pathspecs: Iterable[bytes]) -> list[bytes]:
    """The paths the index holds at or below each of *pathspecs* (literal, from the top), in
    batches that stay within the system's argument limit; [] where git fails."""
    specs = list(pathspecs)
    out: list[bytes] = []
    for batch in _pathspec_batches(specs):
        raw = run_git(
            repo.toplevel, "--literal-pathspecs", "ls-files", "-z", "--", *batch, check=False
        )
        out += split_z(raw) if batch else _at_or_below(split_z(raw), specs)
    return out


def unstaged_paths(repo: Repo, paths: Iterable[bytes]) -> set[bytes]:
    """Those of *paths* whose worktree content differs from the index."""
    specs = list(paths)
    dirty: set[bytes] = set()
    for batch in _pathspec_batches(specs, STATUS_PATHSPECS):
        out = run_git(
            repo.toplevel,
            "--literal-pathspecs",
            "status",
            "--porcelain=v1",
            "-z",
            "--no-renames",
            "--untracked-files=no",
            "--ignore-submodules=all",
            "--",
            *batch,
        )
        for rec in split_z(out):
            if len(rec) > 3 and rec[1:2] != b" ":  # "XY PATH": Y is the worktree side
                dirty.add(rec[3:])
        if not batch:
            dirty = set(_at_or_below(list(dirty), specs))
    return dirty


def differ_from(repo: Repo, rev: str, paths: Iterable[bytes]) -> set[bytes]:
    """Those of *paths* that `git diff-index REV` lists: the index or the worktree holds them
    otherwise than commit *rev* (or one of them lacks what the other holds), by the index's
    stat data (a file only touched is listed too). One `git diff-index` of the whole
    worktree (20-35 ms on 20,000 files), not of *paths*: git 2.39 matches every index entry
    against every pathspec (on 20,000 files: 1,000 paths 0.5 s, 5,000 paths 2.8 s, one
    process per 64 KiB of them), and one path under the root tree's first folder took ~1 s
    (review42 RA42)."""
    _check_rev(rev)
    wanted = {p for p in paths if p}
    if not wanted:
        return set()
    out = run_git(repo.toplevel, "diff-index", "--name-only", "-z", rev)
    return {p for p in split_z(out) if p in wanted}


def rev(repo: Repo, name: str) -> str | None:
    """The commit id *name* (e.g. ORIG_HEAD) resolves to, or None."""
    _check_rev(name)
    out = run_git(repo.toplevel, "rev-parse", "-q", "--verify", name, check=False)
    return out.decode("ascii", "replace").strip() or None


_NEVER = 2**63  # git's expiry-date answer for "now"/"never" is a sentinel, not a time


def approxidate(text: str) -> int | None:
    """Unix time of *text* in git's date syntax ('1.hour.ago', '2026-12-01 10:00', 'yesterday'),
    None if git cannot read it. Through ``git config --type=expiry-date``: git's careful
    approxidate (rev-parse --since takes any text as 'now'), and it needs no repository."""
    if not text.strip() or any(c in text for c in "\0\n"):
        return None
    key = "snapshot.approxidate"
    res = _run("/", ["-c", f"{key}={text}", "config", "--type=expiry-date", key])
    out = res.stdout.decode("ascii", "replace").strip()
    if res.returncode != 0 or not out.isdigit():
        return None
    value = int(out)
    return int(time.time()) if value >= _NEVER else value


# State files in which git keeps the commits (or, AUTO_MERGE, a tree) an operation moved
# between or is in the middle of.
_STATE_FILES = ("ORIG_HEAD", "MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD", "REBASE_HEAD")
_IN_PROGRESS = ("MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD", "REBASE_HEAD")


def state_commits(repo: Repo) -> list[str]:
    """HEAD, the ids in git's state files (ORIG_HEAD, MERGE_HEAD, ...) and a pending autostash:
    what git can give back right now, besides the stash entries."""
    out = [h for h in (head(repo), autostash_commit(repo)) if h]
    for name in _STATE_FILES:
        for line in (_read_text(os.path.join(repo.git_dir, name)) or "").splitlines():
            oid = line.split(" ", 1)[0].strip()
            if is_oid(oid):
                out.append(oid)
    # AUTO_MERGE (a tree) means something only while a conflict stands (conflict_tree)
    busy = any(os.path.exists(os.path.join(repo.git_dir, n)) for n in _IN_PROGRESS)
    tree = conflict_tree(repo, busy)
    return list(dict.fromkeys([*out, tree] if tree else out))


def conflict_tree(repo: Repo, in_progress: bool) -> str | None:
    """The tree git wrote where it stopped on a conflict (AUTO_MERGE: the worktree as git left
    it, conflict markers and all), while that conflict stands: an operation is *in_progress*
    (MERGE_HEAD, a rebase...), or the index holds unmerged entries (a conflicted `stash pop`
    or `stash apply` leaves no state file: RED36 A5, its marker file was named as the user's
    edits; then only the marker files: :func:`_markers_tree`). A merge's autostash that
    conflicted leaves no AUTO_MERGE either: its marker files are made again (RED40 A3); so
    does `am -3` (and `rebase --apply`): merge-recursive, stopped or not (RED40 F3). None
    for none, or a stale one: git 2.39 leaves it after a clean `stash pop`, holding edits the
    user may discard later, which git cannot give back."""
    oid = (_read_text(os.path.join(repo.git_dir, "AUTO_MERGE")) or "").split("\n", 1)[0].strip()
    subject = patch_subject(repo)
    if in_progress and subject is None:
        return oid if is_oid(oid) else None
    stored = autostash_stored(repo)
    if is_oid(oid) or stored or subject is not None:
        return _markers_tree(repo, oid if is_oid(oid) else None, stored, subject)
    return None


def _markers_tree(
    repo: Repo, auto_merge: str | None, stored: str | None, subject: str | None = None
) -> str | None:
    """A tree (written to the object database) of git's files with conflict markers at the
    paths the index holds unmerged: what tree *auto_merge* holds there, each where it is none
    of that path's stages, and, when the newest stash entry is an autostash git could not
    apply (*stored*, its commit), the stash apply's merge of the stages made again
    (_remerged), and, while an am applies the patch *subject*, its merge-recursive's made
    again with its labels. None for none. A stash's marker file is git's only where a stash
    entry still holds its stage 3 (_stash_held): once the user drops the entry it is the only
    copy of the stashed side (review40 RA1). The rest of AUTO_MERGE is not git's to give
    back: the paths a conflicted `stash pop` applied cleanly hold the entry's edits, which
    nothing else holds once the user drops the entry (all of AUTO_MERGE was counted, and a
    `reset --hard` of them went unnamed: review of RED36 A5), and a stale AUTO_MERGE (a clean
    pop's) under another command's conflict holds the user's version there: one of the
    stages."""
    stages = _unmerged(repo)
    if not stages:
        return None
    stashed = _stash_held(repo, stages) if stored or auto_merge is not None else set()
    own = _remerged(repo, {p: stages[p] for p in stashed}, _STASH_LABELS) if stored else {}
    if subject is not None:  # (the patch's side is the user's mbox, not an edit of theirs)
        own.update(_remerged(repo, stages, ("HEAD", _AM_BASE, subject)))
    if auto_merge is not None:
        oids = {p: {o for _m, o in s.values()} for p, s in stages.items()}
        try:
            held = tree_entries(repo, auto_merge, stashed)
        except GitError:  # (a stale one's tree pruned since: nothing of it is git's)
            held = {}
        own.update((p, (m, o)) for p, (m, o) in held.items() if o not in oids[p])
    return _tree_of(repo, own) if own else None


def _stash_held(repo: Repo, stages: Mapping[bytes, Mapping[int, tuple[int, str]]]) -> set[bytes]:
    """The unmerged paths whose stage 3 (a stash apply's theirs: the user's stashed side) a
    present stash entry holds there: git gives it back, and the marker file made from it,
    only while that entry is there. A conflicted `stash pop` keeps the entry; a `stash drop`
    then left the marker file the only copy of the edit, counted as git's (review40 RA1)."""
    theirs = {p: s[3][1] for p, s in stages.items() if 3 in s}
    if not theirs:
        return set()
    entries = [e[0] for e in stash_entries(repo) if e and is_oid(e[0])]
    found = _rev_blobs(repo, entries, theirs) if entries else {}
    return {p for p, oid in theirs.items() if oid in found.get(p, ())}


def _unmerged(repo: Repo) -> dict[bytes, dict[int, tuple[int, str]]]:
    """path -> {stage: (mode, blob id)} of the index's unmerged entries."""
    listed = _run(repo.toplevel, ["ls-files", "--unmerged", "-z"])
    out: dict[bytes, dict[int, tuple[int, str]]] = {}
    for rec in split_z(listed.stdout) if listed.returncode == 0 else []:
        meta, _, path = rec.partition(b"\t")
        parts = meta.split(b" ")
        if len(parts) == 3 and path:
            out.setdefault(path, {})[int(parts[2])] = (int(parts[0], 8), parts[1].decode())
    return out


REMERGED_AT_MOST = 64  # unmerged paths an autostash's marker files are made again for
_STASH_LABELS = ("Updated upstream", "Stash base", "Stashed changes")  # git stash's, as ort's
_AM_BASE = "constructed merge base"  # am -3's base label (merge-recursive's, with diff3)


def _remerged(
    repo: Repo,
    stages: Mapping[bytes, Mapping[int, tuple[int, str]]],
    labels: Sequence[str],
) -> dict[bytes, tuple[int, str]]:
    """path -> (mode, blob id, written to the object database) of the file with conflict
    markers git writes from *stages* (base, ours, theirs) with *labels* (ours, base, theirs:
    `git stash apply`'s, am -3's), for the regular files with all three: `git merge-file`
    with those labels and the conflict style of the config. A file git merged otherwise (a
    merge driver, a marker size) differs from it and stays the user's. (An autostash's
    *stages* are only those a stash entry still holds the user's side of: _stash_held.)"""
    import tempfile  # (a conflicted autostash or am only: off the usual imports)

    regular = (MODE_FILE, MODE_EXEC)
    paths = [p for p, s in stages.items() if all(s.get(n, (0,))[0] in regular for n in (1, 2, 3))]
    out: dict[bytes, tuple[int, str]] = {}
    with tempfile.TemporaryDirectory(prefix="git-snapshot-") as tmp:
        for path in paths[:REMERGED_AT_MOST]:
            s = stages[path]
            sides = [os.path.join(tmp, str(n)) for n in (2, 1, 3)]  # ours, base, theirs
            for side, n in zip(sides, (2, 1, 3)):
                with open(side, "wb") as f:
                    f.write(run_git(repo.toplevel, "cat-file", "blob", s[n][1]))
            named = [a for label in labels for a in ("-L", label)]
            merged = _run(repo.toplevel, ["merge-file", "-p", *named, *sides])
            if not 0 <= merged.returncode < 128:  # (the number of conflicts, or an error)
                continue
            made = _run(repo.toplevel, ["hash-object", "-w", "--stdin"], input=merged.stdout)
            oid = first_line(made.stdout) if made.returncode == 0 else ""
            if is_oid(oid):
                out[path] = (s[3][0] if s[2][0] == s[1][0] else s[2][0], oid)
    return out


def _tree_of(repo: Repo, entries: Mapping[bytes, tuple[int, str]]) -> str | None:
    """A tree (written to the object database) holding *entries* (path -> (mode, id))."""
    import tempfile  # (a conflict only: off the usual imports)

    with tempfile.TemporaryDirectory(prefix="git-snapshot-") as tmp:
        env = git_env({"GIT_INDEX_FILE": os.path.join(tmp, "index")})
        info = b"".join(b"%o %s\t%s\0" % (m, o.encode("ascii"), p) for p, (m, o) in entries.items())
        made = _run(repo.toplevel, ["update-index", "-z", "--index-info"], input=info, env=env)
        tree = _run(repo.toplevel, ["write-tree"], env=env) if made.returncode == 0 else made
    oid = first_line(tree.stdout) if tree.returncode == 0 else ""
    return oid if is_oid(oid) else None


# stash entries whose commits every loss check asks for each path it compares (a lookup a path
# and commit, ~0.1 ms each); the paths about to be named lost are also asked of the older
# ones (losses._older_stashed: red41R2 F7)
STASH_ENTRIES = 50


def stash_commits(repo: Repo, limit: int | None = STASH_ENTRIES) -> list[str]:
    """The newest *limit* stash entries (None: all), each with its parents (HEAD at stash
    time, the index commit and the untracked-files commit of ``stash -u``)."""
    oids = [o for entry in stash_entries(repo, limit) for o in entry]
    return list(dict.fromkeys(o for o in oids if is_oid(o)))


def stash_entries(repo: Repo, limit: int | None = STASH_ENTRIES) -> list[list[str]]:
    """The newest *limit* stash entries (None: all), newest first, each as [its commit, its
    parents...]: HEAD at stash time, the index commit and, with -u or -a, the untracked (and
    ignored) files' commit."""
    count = [] if limit is None else [f"-n{limit}"]
    res = _run(repo.toplevel, ["log", "-g", *count, "--format=%H %P", "refs/stash", "--"])
    if res.returncode != 0:
        return []
    return [line.split() for line in res.stdout.decode("ascii", "replace").splitlines()]


def blob_ids(repo: Repo, revs: Sequence[str], paths: Iterable[bytes]) -> dict[bytes, set[str]]:
    """path -> ids of the blobs (and symlinks) that commits or trees *revs* hold at it, and
    the index: the versions of each path git itself can give back."""
    wanted = sorted({p for p in paths if p})
    found = _rev_blobs(repo, revs, wanted)
    for p, oid in _index_blobs(repo, wanted).items():
        found[p].add(oid)
    return found


def _rev_blobs(repo: Repo, revs: Sequence[str], paths: Iterable[bytes]) -> dict[bytes, set[str]]:
    """path -> ids of the blobs (and symlinks) that commits or trees *revs* hold at it."""
    wanted = sorted({p for p in paths if p})
    found: dict[bytes, set[str]] = {p: set() for p in wanted}
    if len(wanted) > PATHSPECS:  # each of cat-file's rev:path walks the trees (~60 us)
        for r in revs:  # (a rev git lacks holds none, as cat-file's "missing" says)
            for p, _mode, kind, oid in ls_tree(repo, _check_rev(r), [], check=False):
                if kind == b"blob" and p in found:
                    found[p].add(oid)
        return found
    simple = [p for p in wanted if b"\n" not in p]  # cat-file answers one line per request
    requests = [(r, p) for r in revs for p in simple]
    if requests:
        out = run_git(
            repo.toplevel,
            "cat-file",
            "--batch-check=%(objectname) %(objecttype)",
            "-z",
            input=b"".join(_check_rev(r).encode() + b":" + p + b"\0" for r, p in requests),
        )
        for (_, p), line in zip(requests, out.split(b"\n")):
            blob, _, kind = line.partition(b" ")
            if kind == b"blob":
                found[p].add(blob.decode("ascii"))
    for r in revs:  # the rare names with a newline: one ls-tree per rev
        for p, (_mode, oid) in tree_entries(repo, r, [p for p in wanted if b"\n" in p]).items():
            found[p].add(oid)
    return found


def holds_with_mode(
    repo: Repo, revs: Sequence[str], wanted: Mapping[bytes, tuple[str, int]]
) -> set[bytes]:
    """The paths of *wanted* (path -> (blob id, git mode)) whose version the index or one of
    commits *revs* holds with that very mode: the same bytes as 100644 do not give back a
    100755 file. The index first, then each rev only for the paths not found yet (git 2.39's
    cat-file gives no mode: ls-files and ls-tree do)."""
    left = {p: v for p, v in wanted.items() if p}
    found: set[bytes] = set()
    for batch in _pathspec_batches(sorted(left)):
        raw = run_git(repo.toplevel, "--literal-pathspecs", "ls-files", "-s", "-z", "--", *batch)
        for rec in split_z(raw):
            meta, _, path = rec.partition(b"\t")
            fields = meta.split(b" ")
            if len(fields) == 3 and left.get(path) == (fields[1].decode(), int(fields[0], 8)):
                found.add(path)
    for r in revs:
        todo = [p for p in left if p not in found]
        if not todo:
            break
        for p, (mode, oid) in tree_entries(repo, r, todo).items():
            if left[p] == (oid, mode):
                found.add(p)
    return found


def existing_blobs(repo: Repo, oids: Iterable[str]) -> set[str]:
    """Those of *oids* that are blobs in the object database."""
    return existing_blobs_at(repo.toplevel, oids)


def existing_blobs_at(where: str, oids: Iterable[str]) -> set[str]:
    """Those of *oids* that are blobs in the object database of the repository at *where*
    (a submodule's, from its folder)."""
    wanted = sorted({o for o in oids if is_oid(o)})
    if not wanted:
        return set()
    out = run_git(
        where,
        "cat-file",
        "--batch-check=%(objectname) %(objecttype)",
        input="".join(o + "\n" for o in wanted).encode("ascii"),
    )
    return {
        parts[0]
        for parts in (line.split(" ") for line in out.decode("ascii", "replace").splitlines())
        if len(parts) == 2 and parts[1] == "blob"
    }


def _index_blobs(repo: Repo, paths: list[bytes]) -> dict[bytes, str]:
    """path -> blob id of its index entry (stage 0 or any conflict stage)."""
    out: dict[bytes, str] = {}
    wanted = set(paths)
    for batch in _pathspec_batches(paths):
        raw = run_git(repo.toplevel, "--literal-pathspecs", "ls-files", "-s", "-z", "--", *batch)
        for rec in split_z(raw):
            meta, _, path = rec.partition(b"\t")
            fields = meta.split(b" ")
            if path in wanted and len(fields) == 3:
                out[path] = fields[1].decode("ascii")
    return out


# git 2.39 matches every index or tree entry against every pathspec given (~14 ns a pair
# here): one `ls-files -s -- <4,600 paths>` took 1.25 s on a 20,000-file repository where the
# whole listing takes 8 ms (a report of 5,000 files edited, `run -- git reset --hard`). Past
# this many paths one listing of everything is asked and the caller keeps what it wanted.
PATHSPECS = 32
STATUS_PATHSPECS = 128  # status lstats every file without pathspecs: its turn comes later


def _pathspec_batches(paths: Sequence[bytes], most: int = PATHSPECS) -> Iterator[list[str]]:
    """*paths* as literal pathspecs in batches within the argument limit (_argv_batches), or
    past *most* of them one empty batch: no pathspec, everything listed, for the caller to
    keep what it asked (exactly, or at or below each path: _at_or_below)."""
    if len(paths) > most:
        yield []
        return
    yield from _argv_batches(paths)


def _at_or_below(listed: list[bytes], specs: Sequence[bytes]) -> list[bytes]:
    """Those of *listed* (paths git lists: none ends in '/') a literal pathspec of *specs*
    matches: the path itself, or one below it."""
    exact = set(specs)
    folders = {s.rstrip(b"/") for s in specs}
    out: list[bytes] = []
    for path in listed:
        if path in exact:
            out.append(path)
            continue
        at = path.rfind(b"/")
        while at > 0:
            if path[:at] in folders:
                out.append(path)
                break
            at = path.rfind(b"/", 0, at)
    return out


def _argv_batches(paths: Iterable[bytes], limit: int = 64 * 1024) -> Iterator[list[str]]:
    batch: list[str] = []
    size = 0
    for p in paths:
        if size + len(p) + 1 > limit and batch:
            yield batch
            batch, size = [], 0
        batch.append(os.fsdecode(p))
        size += len(p) + 1
    if batch:
        yield batch


def tree_entries(repo: Repo, rev: str, paths: Iterable[bytes]) -> dict[bytes, tuple[int, str]]:
    """path -> (mode, object id) in commit/tree *rev* for each of *paths* that is a file,
    symlink or gitlink there; paths that are missing (or are directories) are absent."""
    _check_rev(rev)
    wanted = {p for p in paths if p}
    result: dict[bytes, tuple[int, str]] = {}
    for batch in _pathspec_batches(sorted(wanted)):
        for path, mode, _type, oid in ls_tree(repo, rev, batch):
            if path in wanted:
                result[path] = (mode, oid)
    return result


def ls_tree(
    repo: Repo, rev: str, pathspecs: Sequence[str], check: bool = True
) -> Iterator[tuple[bytes, int, bytes, str]]:
    """(path, mode, type, object id) of each file, symlink and gitlink that *rev* holds at or
    below *pathspecs* (literal, from the top); with *check* False, a failing git gives none."""
    out = run_git(
        repo.toplevel,
        "--literal-pathspecs",
        "ls-tree",
        "-r",
        "-z",
        "--full-tree",
        rev,
        "--",
        *pathspecs,
        check=check,
    )
    for rec in split_z(out):
        meta, _, path = rec.partition(b"\t")
        fields = meta.split(b" ")
        if len(fields) == 3:
            yield path, int(fields[0], 8), fields[1], fields[2].decode("ascii")


# -- content git converts (end-of-line settings, clean/smudge filters: git lfs, crypt) ----------

# the attributes under which the bytes git stores are not the bytes of the worktree's file
_CONVERTING = ("text", "eol", "crlf", "filter", "ident", "working-tree-encoding")


def converting(repo: Repo, paths: Iterable[bytes]) -> set[bytes]:
    """Those of *paths* whose worktree bytes git converts when it stores them: an end-of-line
    attribute or core.autocrlf, a clean filter (git lfs), ident, working-tree-encoding. The
    id of their raw bytes is never git's, so "git has this version" must be asked of what
    git would store (:func:`clean_ids`). One ``check-attr`` and one ``config`` call."""
    told = check_attr(repo, paths, _CONVERTING)
    if not told:
        return set()
    autocrlf = _run(repo.toplevel, ["config", "core.autocrlf"]).stdout.strip().lower()
    # (text set or auto, an eol, a filter...; under core.autocrlf every file whose text
    # attribute is not unset: auto-detected)
    crlf = autocrlf in (b"true", b"yes", b"on", b"1", b"input")
    return {
        p
        for p, a in told.items()
        if any(v not in NOT_SET for v in a.values()) or (crlf and a.get(b"text") != b"unset")
    }


NOT_SET = (b"unspecified", b"unset")  # the values check_attr gives an attribute not set


def check_attr(
    repo: Repo, paths: Iterable[bytes], attrs: Sequence[str]
) -> dict[bytes, dict[bytes, bytes]] | None:
    """path -> {attribute: value} (b"unspecified", b"unset", b"set", or its value) for *attrs*
    of each of *paths* (any name: ``--stdin -z`` takes and gives a newline as it is): one
    ``check-attr``; None when git fails."""
    wanted = sorted({p for p in paths if p})
    if not wanted:
        return {}
    res = _run(
        repo.toplevel,
        ["check-attr", "-z", "--stdin", *attrs],
        input=b"".join(p + b"\0" for p in wanted),
    )
    if res.returncode != 0:
        return None
    told: dict[bytes, dict[bytes, bytes]] = {p: {} for p in wanted}
    fields = res.stdout.split(b"\0")
    for i in range(0, len(fields) - 2, 3):
        told.setdefault(fields[i], {})[fields[i + 1]] = fields[i + 2]
    return told


def clean_ids(repo: Repo, items: Iterable[tuple[bytes, bytes]]) -> dict[bytes, str]:
    """path -> the id git gives *data* stored at that path (its clean filter and end-of-line
    conversion applied: ``hash-object --stdin --path``, which takes any name, a newline
    too); a process each, a few at a time. Paths git does not answer for are left out."""
    from concurrent.futures import ThreadPoolExecutor

    def one(item: tuple[bytes, bytes]) -> tuple[bytes, str | None]:
        path, data = item
        res = _run(
            repo.toplevel,
            ["hash-object", "--stdin", f"--path={os.fsdecode(path)}"],
            input=data,
        )
        oid = res.stdout.strip().decode("ascii", "replace")
        return path, oid if res.returncode == 0 and is_oid(oid) else None

    todo = list(items)
    with ThreadPoolExecutor(max_workers=4) as pool:
        return {p: oid for p, oid in pool.map(one, todo) if oid is not None}


def smudged(
    repo: Repo, items: Iterable[tuple[bytes, str]], attributes: str | None = None
) -> dict[tuple[bytes, str], bytes]:
    """(path, oid) -> the bytes git writes to the worktree for blob *oid* at that path (its
    smudge filter and end-of-line conversion: ``cat-file --filters``, what a checkout
    writes). One ``cat-file -z --batch --filters`` for them all (_smudged_batch); those it
    does not answer (a path starting with a blank, which git's batch reading strips; a
    filter that failed and stopped it; a git without -z) are asked one process each, a few
    at a time (``--path``). Those git does not answer for are left out. With *attributes*
    (a folder holding .gitattributes files at their paths), under those and no others of
    the worktree or index (git 2.39 has no attribute source: that folder is git's worktree
    for the call, with an empty index)."""
    cwd, env = repo.toplevel, None
    if attributes is not None:
        cwd = attributes
        env = git_env(
            {
                "GIT_DIR": repo.git_dir,
                "GIT_WORK_TREE": attributes,
                "GIT_INDEX_FILE": os.path.join(attributes, ".git-snapshot-no-index"),
            }
        )
    todo = [(p, o) for p, o in items if is_oid(o)]
    out = _smudged_batch(cwd, env, [(p, o) for p, o in todo if p[:1] not in (b" ", b"\t")])
    rest = [x for x in todo if x not in out]
    if not rest:
        return out
    from concurrent.futures import ThreadPoolExecutor

    def one(item: tuple[bytes, str]) -> tuple[tuple[bytes, str], bytes | None]:
        path, oid = item
        args = ["cat-file", "--filters", f"--path={os.fsdecode(path)}", oid]
        res = _run(cwd, args, env=env)
        return item, res.stdout if res.returncode == 0 else None

    with ThreadPoolExecutor(max_workers=4) as pool:
        out.update((k, data) for k, data in pool.map(one, rest) if data is not None)
    return out


def blob_contents(repo: Repo, oids: Iterable[str]) -> dict[str, bytes]:
    """oid -> the bytes of blob *oid* as git stores it (no filter, no conversion): one
    ``cat-file --batch``. Ids git does not hold as blobs are left out."""
    wanted = sorted({o for o in oids if is_oid(o)})
    if not wanted:
        return {}
    request = b"".join(o.encode("ascii") + b"\n" for o in wanted)
    data = _run(repo.toplevel, ["cat-file", "--batch"], input=request).stdout
    out: dict[str, bytes] = {}
    pos = 0
    for oid in wanted:
        eol = data.find(b"\n", pos)
        header = data[pos:eol].split(b" ")
        if eol < 0 or header[0] != oid.encode("ascii"):
            break
        if len(header) != 3:  # "ID missing"
            pos = eol + 1
            continue
        size = int(header[2])
        if header[1] == b"blob":
            out[oid] = data[eol + 1 : eol + 1 + size]
        pos = eol + 1 + size + 1
    return out


def _smudged_batch(
    cwd: str, env: dict[str, str] | None, items: list[tuple[bytes, str]]
) -> dict[tuple[bytes, str], bytes]:
    """smudged's answers from one ``cat-file -z --batch --filters`` (git 2.38's -z: any
    path). Its header gives the size before the conversion (git 2.39, RED30), so the
    contents are not cut by it: each request is followed by one for an object that does not
    exist (a random id), whose "ID missing" line ends the contents before it. Where the
    stream stops making sense (git died on a filter that failed), the rest is unanswered."""
    if not items:
        return {}
    mark = os.urandom(len(items[0][1]) // 2).hex().encode("ascii")
    end = b"\n" + mark + b" missing\n"
    request = b"".join(b"%s %s\0%s .\0" % (o.encode("ascii"), p, mark) for p, o in items)
    res = _run(cwd, ["cat-file", "-z", "--batch", "--filters", "--buffer"], input=request, env=env)
    out: dict[tuple[bytes, str], bytes] = {}
    data, pos = res.stdout, 0
    for path, oid in items:
        eol = data.find(b"\n", pos)
        header = data[pos:eol].split(b" ")
        if eol < 0 or header[0] != oid.encode("ascii"):
            break
        if header[1:2] == [b"missing"]:  # (then its mark's line)
            if not data.startswith(end[1:], eol + 1):
                break
            pos = eol + len(end)
            continue
        stop = data.find(end, eol + 1)
        if header[1:2] != [b"blob"] or stop < 0:
            break
        out[(path, oid)] = data[eol + 1 : stop]
        pos = stop + len(end)
    return out


def fsmonitor(repo: Repo) -> bool:
    """Whether ``core.fsmonitor`` is set (a hook or git's daemon): git then takes a file its
    monitor reported no event for as unchanged, without looking at it, and a plain checkout
    or merge writes over an edit the monitor missed (red41R1 finding 2)."""
    value = _core_values(repo).get("core.fsmonitor", "").lower()
    return value not in ("", "false", "no", "off", "0")


def stat_blind(repo: Repo) -> bool:
    """Whether git's stat check may take a tracked file with an edit as unchanged, without
    reading it: core.trustctime false, or core.checkStat minimal (whole seconds, no ctime's
    nanoseconds, no inode). An edit that keeps the size and mtime (`cp -p`, `rsync -t`, a
    tool writing in place) is then not seen, and a plain checkout or merge deletes or writes
    over it (checked on git 2.39), as under core.fsmonitor: the rules that say "git refused
    to write over an edit" do not hold (session 43, review RR43)."""
    values = _core_values(repo)
    trust = values.get("core.trustctime", "true").strip().lower()
    return trust in ("false", "no", "off", "0", "") or (
        values.get("core.checkstat", "").strip().lower() == "minimal"
    )


def _core_values(repo: Repo) -> dict[str, str]:
    """The last value of core.fsmonitor, core.trustctime and core.checkstat (keys lower-cased,
    a key with no value "true", as git reads it): in a hook, from its one config call
    (gitrepo._CONFIG_ARGS); else one ``git config``."""
    if repo.memo is not None:
        records = [(k, v) for _scope, k, v in _scoped_config(repo)]
    else:
        res = _run(repo.toplevel, ["config", "-z", "--get-regexp", f"^({_STAT_KEYS})"])
        out = res.stdout if res.returncode == 0 else b""
        records = [_config_record(rec) for rec in out.split(b"\0") if rec]
    wanted = ("core.fsmonitor", "core.trustctime", "core.checkstat")
    return {k: v for k, v in records if k in wanted}


def ignored(repo: Repo, paths: Iterable[bytes]) -> set[bytes]:
    """Those of *paths* git's ignore rules (.gitignore, info/exclude, core.excludesFile)
    match, themselves or by a folder above them, whether tracked or not (``check-ignore
    --no-index``, one process). All of them when git does not answer."""
    wanted = sorted({p for p in paths if p})
    if not wanted:
        return set()
    res = _run(
        repo.toplevel,
        ["check-ignore", "--no-index", "-z", "--stdin"],
        input=b"".join(p + b"\0" for p in wanted),
    )
    if res.returncode not in (0, 1):  # (1: none of them is ignored)
        return set(wanted)
    return {p for p in res.stdout.split(b"\0") if p}


def clean_path_ids(repo: Repo, paths: Iterable[bytes]) -> dict[bytes, str]:
    """path -> the id git gives the worktree's file at *path* as it would store it (clean
    filter, end-of-line conversion: ``hash-object --stdin-paths``, one process); regular
    files only, paths relative to the top. git reads a line per path and unquotes one that
    starts with a double quote (dying on one badly quoted: every answer lost), and drops a
    carriage return ending it: a name holding a newline, starting with `"` or ending with a
    carriage return is sent C-quoted (_c_quoted)."""
    top = os.fsencode(repo.toplevel)
    files = [p for p in paths if p and os.path.isfile(os.path.join(top, p))]
    if not files:
        return {}
    lines = b"".join(_c_quoted(p) if _odd_line(p) else p + b"\n" for p in files)
    res = _run(repo.toplevel, ["hash-object", "--stdin-paths"], input=lines)
    oids = res.stdout.decode("ascii", "replace").split()
    if res.returncode != 0 or len(oids) != len(files):
        return {}
    return {p: oid for p, oid in zip(files, oids, strict=True) if is_oid(oid)}


def _odd_line(path: bytes) -> bool:
    """Whether git reads *path* sent as a line of its own as another name: it holds a newline,
    starts with a double quote (git unquotes the line) or ends with a carriage return
    (strbuf_getline drops it)."""
    return b"\n" in path or path[:1] == b'"' or path[-1:] == b"\r"


def _c_quoted(path: bytes) -> bytes:
    """*path* as a line git unquotes (unquote_c_style): in double quotes, a backslash, a
    double quote, a newline and a carriage return escaped, then a newline."""
    inner = path.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
    return b'"' + inner.replace(b"\n", b"\\n").replace(b"\r", b"\\r") + b'"\n'


def nested_versions(git_dir: str, revs: Sequence[str] = ()) -> dict[bytes, set[tuple[str, int]]]:
    """path -> the (blob id, mode) versions that the repository at *git_dir* (a submodule's,
    seen from the worktree around it) can give back: its HEAD's, its index's and those of
    its commits *revs* (one ls-tree each: the few the operation moved it between). Empty when
    git cannot read it. Run with --git-dir, not in its worktree, which may be gone
    (``submodule deinit`` clears it and leaves the repository in .git/modules), and with
    a --work-tree that exists: git dies ("cannot chdir") on a core.worktree that is gone (the
    folder ``git rm -f sub`` removed), and neither command reads a worktree (RED39 B2)."""
    found: dict[bytes, set[tuple[str, int]]] = {}
    where = (f"--git-dir={git_dir}", f"--work-tree={git_dir}")
    for rev in dict.fromkeys(["HEAD", *revs]):
        if rev != "HEAD":
            _check_rev(rev)
        out = run_git(git_dir, *where, "ls-tree", "-r", "-z", rev, check=False)
        for rec in split_z(out):
            meta, _, path = rec.partition(b"\t")
            fields = meta.split(b" ")
            if len(fields) == 3 and fields[1] == b"blob":
                found.setdefault(path, set()).add((fields[2].decode(), int(fields[0], 8)))
    out = run_git(git_dir, *where, "ls-files", "-s", "-z", check=False)
    for rec in split_z(out):
        meta, _, path = rec.partition(b"\t")
        fields = meta.split(b" ")
        if len(fields) == 3:
            found.setdefault(path, set()).add((fields[1].decode(), int(fields[0], 8)))
    return found


def gitlink_in_index(repo: Repo, path: bytes) -> bool:
    """Whether the index of *repo* holds a gitlink (a submodule) at *path*: `git submodule
    update` checks it out again, its ``.git`` file with it."""
    out = run_git(
        repo.toplevel,
        "--literal-pathspecs",
        "ls-files",
        "-s",
        "-z",
        "--",
        os.fsdecode(path),
        check=False,
    )
    for rec in split_z(out):
        meta, _, name = rec.partition(b"\t")
        if name == path and meta.startswith(b"160000 "):
            return True
    return False
