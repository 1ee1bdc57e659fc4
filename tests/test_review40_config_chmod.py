"""review40 RC3: since RED40 C8, every remote command makes the config folder 0700 when it
is open to the group or others. It did so whoever owned the folder and whatever the file
system: a config folder the user may read but not chmod (GIT_SNAPSHOT_CONFIG_DIR naming one an
admin made, 0755 root's; a read-only one, as a home-manager link into /nix/store) ended every
remote command, and autoPush, in "internal error: PermissionError". Nobody else can write such
a folder (the check refuses one that others may change): it is read as before, untouched.

The suite runs as root: the command runs here as user nobody (setpriv), as
tests/test_red40_store_precreated.py."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from ownerhelpers import AS_NOBODY
from ownerhelpers import NOBODY
from ownerhelpers import needs_root

from git_snapshot.errors import UserError
from git_snapshot.store.remote import config


@needs_root
def test_a_config_folder_root_made_for_the_user_is_read_not_chmodded(open_tmp: Path) -> None:
    conf = open_tmp / "conf"
    conf.mkdir(mode=0o755)
    doc = {"remotes": {"nas": {"url": "file:///srv/nas", "key": str(conf / "nas.key")}}}
    (conf / "remotes.json").write_text(json.dumps(doc))
    (conf / "remotes.json").chmod(0o644)
    home = open_tmp / "home"
    home.mkdir()
    os.chown(home, NOBODY, NOBODY)
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "GIT_SNAPSHOT_CONFIG_DIR": str(conf),
    }
    ran = subprocess.run(
        [*AS_NOBODY, str(VENV_BIN / "git-snapshot"), "remote", "list"],
        cwd=home,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert ran.returncode == 0 and ran.stderr == "", ran.stderr
    assert "nas" in ran.stdout and "file:///srv/nas" in ran.stdout, ran.stdout
    assert stat.S_IMODE(conf.stat().st_mode) == 0o755


def test_a_config_dir_naming_a_file_leaves_the_file_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n")
    notes.chmod(0o644)
    monkeypatch.setenv("GIT_SNAPSHOT_CONFIG_DIR", str(notes))
    with pytest.raises(UserError, match="cannot read the remotes file"):
        config.load()
    assert stat.S_IMODE(notes.stat().st_mode) == 0o644


@needs_root
def test_a_home_another_uid_owns_as_a_container_gives_it_keeps_the_remotes(open_tmp: Path) -> None:
    """OpenShift runs a container as any uid in group 0, with a home that uid 1001 owns, mode
    0775: the home's owner was asked too, and every remote command, `remote add` first, was
    refused with a `sudo chown` no container has. The home's owner controls its user anyway
    (~/.profile); only the folders below it must be the user's (or root's)."""
    home = open_tmp / "home"
    home.mkdir()
    os.chown(home, 1001, NOBODY)  # another uid, the user's group
    home.chmod(0o775)
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_DATA_HOME": str(home / "data"),
    }
    env.pop("GIT_SNAPSHOT_CONFIG_DIR", None)
    argv = [*AS_NOBODY, str(VENV_BIN / "git-snapshot"), "remote", "list"]
    ran = subprocess.run(argv, cwd=home, capture_output=True, text=True, env=env, check=False)
    assert ran.returncode == 0 and "not using the remotes" not in ran.stderr, ran.stderr
    conf = home / ".config"
    conf.mkdir()
    os.chown(conf, 1001, NOBODY)  # below the home, another uid's: still refused
    conf.chmod(0o775)
    ran = subprocess.run(argv, cwd=home, capture_output=True, text=True, env=env, check=False)
    assert ran.returncode != 0 and "belongs to" in ran.stderr, ran.stderr
