"""review42 RA42, of cleanA's item 3 (c39f6ef, recorded in 6dd3d4c): stopped._put_back asked
`git diff-index REV -- <paths>` (gitextra.differ_from, literal pathspecs in 64 KiB batches)
instead of one `git diff-index REV` of the whole worktree. The answer is the same, but git
2.39 matches every index entry against every pathspec: one process per batch, each slower
with each path (on 20,000 files: 1,000 paths 0.5 s, 5,000 paths 2.8 s; the whole worktree
20-35 ms), and a single path under the first folder of the root tree took ~1 s (unpack_trees).
The check asks one `git diff-index` of the whole worktree again, whatever the paths.

Real git, the hooks installed as a user installs them; GIT_TRACE lists every git process.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import named_lost
from hookhelpers import put_venv_on_path
from hookhelpers import side_commit
from hookhelpers import write

# more path bytes than one git command line of differ_from's batches held (64 KiB)
NAMES = [f"-{i:03d}-" + "n" * 200 + ".txt" for i in range(400)]


@pytest.mark.slow
def test_a_stopped_merges_check_of_many_paths_is_one_diff_index(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """RED41 R2 F5's case with 400 edited files whose names ('-' first) fill more than one
    command line: the merge stops, `git add -u` stages the edits with the resolution, `git
    merge --abort` resets them. The next command's hook names every one, and its check runs
    one `git diff-index` of the worktree (before: one per 64 KiB of paths)."""
    put_venv_on_path(monkeypatch)
    for name in NAMES:
        write(repo / name, b"committed\n")
    git(repo, "add", "--", *NAMES)
    git(repo, "commit", "-q", "-m", "many")
    base = commit(repo, "a.txt", b"base\n")
    side_commit(repo, "topic", {"a.txt": b"topic\n"}, base=base)
    commit(repo, "a.txt", b"mainside\n")
    install(repo)
    for name in NAMES:
        write(repo / name, b"MY DIRTY EDIT\n")
    assert git(repo, "merge", "topic", rc=None).rc != 0
    write(repo / "a.txt", b"resolved\n")
    git(repo, "add", "-u")
    git(repo, "merge", "--abort")
    assert (repo / NAMES[0]).read_bytes() == b"committed\n"
    trace = tmp_path / "trace"
    ran = git(repo, "checkout", "-q", "-b", "next", GIT_TRACE=str(trace))
    assert [r.what.split(" (")[0] for r in ran.reports] == ["git merge"], ran.err
    assert sorted(named_lost(repo)) == sorted(NAMES)
    asked = [
        line.split("built-in: ", 1)[1]
        for line in trace.read_text().splitlines()
        if "built-in: git diff-index" in line and "--cached" not in line
    ]
    assert len(asked) == 1 and " -- " not in asked[0], asked
