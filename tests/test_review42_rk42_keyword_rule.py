"""Review of 60eaa71 (session 42, RK42): losses._regenerated took any line the smudge filter
rewrites as the smudge's own, whatever the file held there. A filter that injects a secret
(clean: the value back to a placeholder; smudge: the placeholder to the value kept outside
the repository) rewrites the secret's line; a user who edits the secret in the file changes
nothing git sees (its clean gives the committed blob), so a switch overwrites the edit with
the old value, and the report said nothing (it named the file before 60eaa71).

What the smudge writes anew and the user did not write is a keyword's expansion, RCS's
shape (`$Date$` written `$Date: ... $`, git's own `ident`): a line counts as the smudge's
only when collapsing every `$Word: ... $` to `$Word$` gives the blob's line, in the file's
line and in git's. The keyword tests of tests/test_red42_keyword_filter.py stay as they are.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from hookhelpers import named_lost
from hookhelpers import put_venv_on_path

# the placeholder as a word (REDACTED) or empty (the clean drops the value whole)
CLEAN = "#!/bin/sh\nsed -e 's/^password=.*/password={ph}/'\n"
SMUDGE = '#!/bin/sh\nsed -e "s/^password={ph}\\$/password=$(cat {secret})/"\n'
KW_CLEAN = b"#!/bin/sh\nsed -e 's/\\$\\([A-Za-z]*\\)[^$]*\\$/$\\1$/g'\n"
KW_SMUDGE = (
    b"#!/bin/sh\nsed -e 's/\\$Date\\$/$Date: '\"$(date +%s.%N)\"' $/g'"
    b" -e 's/\\$Rev\\$/$Rev: '\"$(date +%N)\"' $/g'\n"
)


def _filtered(repo: Path, tmp: Path, clean: bytes, smudge: bytes, text: bytes) -> None:
    for name, body in (("clean.sh", clean), ("smudge.sh", smudge)):
        (tmp / name).write_bytes(body)
        (tmp / name).chmod(0o755)
    git(repo, "config", "filter.f.clean", str(tmp / "clean.sh"))
    git(repo, "config", "filter.f.smudge", str(tmp / "smudge.sh"))
    (repo / ".gitattributes").write_bytes(b"*.txt filter=f\n")
    (repo / "a.txt").write_bytes(text)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "c1")
    (repo / "a.txt").unlink()
    git(repo, "checkout", "-q", "--", "a.txt")  # as git writes it
    git(repo, "checkout", "-q", "-b", "B")
    (repo / "a.txt").write_bytes(text.replace(b"body", b"body on B"))
    git(repo, "commit", "-q", "-am", "c2")
    git(repo, "checkout", "-q", "main")
    install(repo)
    assert git(repo, "status", "--porcelain").out == ""


def _named(ran: Ran, repo: Path) -> list[str]:
    return [n for r in ran.reports for n in r.names.split(", ")] or named_lost(repo)


@pytest.mark.parametrize("placeholder", ["REDACTED", ""])
@pytest.mark.parametrize("how", ["plain", "run-reset"])
def test_a_secret_the_user_changed_on_the_line_the_smudge_writes_is_named(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, placeholder: str, how: str
) -> None:
    put_venv_on_path(monkeypatch)
    (tmp_path / "secret").write_bytes(b"old-secret\n")
    s = str(tmp_path / "secret")
    clean = CLEAN.format(ph=placeholder).encode()
    smudge = SMUDGE.format(ph=placeholder, secret=s).encode()
    _filtered(repo, tmp_path, clean, smudge, f"password={placeholder}\nbody\n".encode())
    assert (repo / "a.txt").read_bytes() == b"password=old-secret\nbody\n"
    mine = b"password=new-secret\nbody\n"
    (repo / "a.txt").write_bytes(mine)
    assert git(repo, "status", "--porcelain").out == ""  # git sees no edit: its clean
    gs(repo, "-m", "new secret")
    if how == "run-reset":
        ran = gs(repo, "run", "--", "git", "reset", "-q", "--hard", "B")
    else:
        ran = git(repo, "checkout", "-q", "B")
    assert (repo / "a.txt").read_bytes() == b"password=old-secret\nbody on B\n"
    assert "a.txt" in _named(ran, repo), ran.err


@pytest.mark.parametrize("how", ["plain", "forced"])
def test_keywords_anywhere_on_a_line_the_smudge_writes_again_are_not_named(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Two keywords on one line, text around them: still the smudge's own."""
    put_venv_on_path(monkeypatch)
    text = b"x $Date$ and $Rev$ y\nbody\n"
    _filtered(repo, tmp_path, KW_CLEAN, KW_SMUDGE, text)
    assert (repo / "a.txt").read_bytes().startswith(b"x $Date: ")
    gs(repo, "-m", "before")
    ran = git(repo, "checkout", "-q", *(["-f"] if how == "forced" else []), "B")
    assert (repo / "a.txt").read_bytes().endswith(b"body on B\n")
    assert "a.txt" not in _named(ran, repo), ran.err


def test_an_ident_expansion_of_the_version_before_a_commit_is_not_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git's own `ident`: a commit does not write the file again, so it keeps the `$Id: ...
    $` of the blob before; git writes the new blob's id. Nothing the user wrote differs."""
    put_venv_on_path(monkeypatch)
    (repo / ".gitattributes").write_bytes(b"*.txt ident\n")
    (repo / "a.txt").write_bytes(b"$Id$\nbody\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "c1")
    (repo / "a.txt").unlink()
    git(repo, "checkout", "-q", "--", "a.txt")
    git(repo, "checkout", "-q", "-b", "B")
    (repo / "a.txt").write_bytes((repo / "a.txt").read_bytes().replace(b"body", b"body B"))
    git(repo, "commit", "-q", "-am", "c2")
    git(repo, "checkout", "-q", "main")
    install(repo)
    first = (repo / "a.txt").read_bytes()
    (repo / "a.txt").write_bytes(first.replace(b"body", b"body 2"))
    git(repo, "commit", "-q", "-am", "c3")  # the file keeps c1's blob id
    assert (repo / "a.txt").read_bytes().startswith(first.split(b"\n")[0])
    ran = git(repo, "checkout", "-q", "-f", "B")
    assert (repo / "a.txt").read_bytes().endswith(b"body B\n")
    assert "a.txt" not in _named(ran, repo), ran.err
