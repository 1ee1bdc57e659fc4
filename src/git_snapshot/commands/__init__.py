"""One function per command: ``cmd_<name>(args) -> exit code``."""

from __future__ import annotations

from git_snapshot.commands.create import cmd_create
from git_snapshot.commands.diff import cmd_diff
from git_snapshot.commands.doctor import cmd_doctor
from git_snapshot.commands.export import cmd_export
from git_snapshot.commands.install import cmd_install
from git_snapshot.commands.install import cmd_uninstall
from git_snapshot.commands.list import cmd_list
from git_snapshot.commands.losses import cmd_losses
from git_snapshot.commands.losses import cmd_undo
from git_snapshot.commands.prune import cmd_prune
from git_snapshot.commands.repair import cmd_repair
from git_snapshot.commands.restore import cmd_restore
from git_snapshot.commands.run import cmd_run
from git_snapshot.commands.show import cmd_show
from git_snapshot.commands.verify import cmd_verify

__all__ = [
    "cmd_create",
    "cmd_diff",
    "cmd_doctor",
    "cmd_export",
    "cmd_install",
    "cmd_list",
    "cmd_losses",
    "cmd_prune",
    "cmd_repair",
    "cmd_restore",
    "cmd_run",
    "cmd_show",
    "cmd_undo",
    "cmd_uninstall",
    "cmd_verify",
]
