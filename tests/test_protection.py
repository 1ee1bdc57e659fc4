"""The protection table (docs/PROTECTION.md, written by bench/protection.py), asserted: for
each of the 16 everyday loss cases and each mode, whether the loss is reported, from the
snapshot taken right before or an earlier one, and that the printed command brings it back;
and no report at all for the harmless sequences."""

from __future__ import annotations

from pathlib import Path

import pytest
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from precommithelpers import HookRepo
from precommithelpers import pc_install
from protection_cases import CASES
from protection_cases import HARMLESS
from protection_cases import Case
from protection_cases import expected
from protection_cases import play
from protection_cases import prepare


def _check(r: Path, case: Case, mode: str) -> None:
    prepare(r, case)
    got = play(r, case, mode)
    if case.harmless:
        assert got.reports == 0, f"false alarm in {case.id} ({mode})"
        return
    reported, exact = expected(case, mode)
    assert (got.reported, got.exact) == (reported, exact), got
    if reported:
        assert got.recovered, "the printed restore command did not bring the data back"
    assert got.in_a_snapshot  # the earlier snapshot, at least, holds it


@pytest.mark.parametrize("mode", ["hooks", "run"])
@pytest.mark.parametrize("case", CASES + HARMLESS, ids=lambda c: c.id)
def test_protection(repo: Path, monkeypatch: pytest.MonkeyPatch, case: Case, mode: str) -> None:
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b".env\nbuild/\n")
    commit(repo, "a.txt", b"committed a\n")
    install(repo)
    _check(repo, case, mode)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES + HARMLESS, ids=lambda c: c.id)
def test_protection_through_pre_commit(
    repo: Path, hook_repo: HookRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: Case
) -> None:
    put_venv_on_path(monkeypatch)
    monkeypatch.setenv("PRE_COMMIT_HOME", str(hook_repo.fresh_home(tmp_path / "pre-commit-home")))
    commit(repo, ".gitignore", b".env\nbuild/\n")
    commit(repo, ".pre-commit-config.yaml", hook_repo.config().encode())
    commit(repo, "a.txt", b"committed a\n")
    pc_install(repo)
    _check(repo, case, "pre-commit")
