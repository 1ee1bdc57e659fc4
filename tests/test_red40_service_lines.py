"""RED40 D9.6: `watch --install-service` where there is no systemd printed how to enable the
unit with systemctl, then "no systemd here: ...": only the second applies. And its
`~/.profile` line (`git-snapshot watch >/dev/null`) was not README's
(`git-snapshot watch >/dev/null 2>&1`). Now only the line that applies is printed, and the
login line is README's.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import gs

README = Path(__file__).resolve().parent.parent / "README.md"
LOGIN = "git-snapshot watch >/dev/null 2>&1"


def test_install_service_prints_only_the_line_that_applies(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    out = gs(repo, "watch", "--install-service").out
    assert (tmp_path / "config" / "systemd" / "user" / "git-snapshot-watch.service").exists()
    if os.path.isdir("/run/systemd/system"):
        assert "systemctl --user enable --now git-snapshot-watch" in out, out
        assert "no systemd here" not in out, out
    else:
        assert "no systemd here" in out, out
        assert "systemctl" not in out, out
        assert f"'{LOGIN}' to ~/.profile" in out, out


def test_the_login_line_is_readmes() -> None:
    assert f"`{LOGIN}` to `~/.profile`" in README.read_text(encoding="utf-8")
