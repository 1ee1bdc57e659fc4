"""The command line: parse (:mod:`git_snapshot.cliparse`), then an explicit dispatch to typed
command functions, and the one place that turns errors into exit codes and one-line messages.

Each command is a ``cmd_<name>(*, keyword arguments) -> exit code`` in its own module under
:mod:`git_snapshot.commands`, imported only when that command runs: a hook run (the command git
runs at every checkout) starts at :mod:`git_snapshot.hookmain` and imports neither this module
nor argparse.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from collections.abc import Sequence

from git_snapshot.cliparse import Args
from git_snapshot.cliparse import parse
from git_snapshot.errors import UsageError
from git_snapshot.errors import UserError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (4 ms of every command)
if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

# Commands whose output can be long: through git's pager when stdout is a terminal.
PAGED = frozenset({"show", "diff", "log", "list", "find"})


def _create(a: Args) -> int:
    from git_snapshot.commands.create import cmd_create

    return cmd_create(cwd=a.cwd, message=a.text("message"), json_out=a.flag("json"))


def _list(a: Args) -> int:
    from git_snapshot.commands.list import cmd_list

    return cmd_list(
        cwd=a.cwd,
        all_repos=a.flag("all"),
        json_out=a.flag("json"),
        repo_arg=a.maybe_text("repo"),
        limit=a.maybe_int("limit"),
        since=a.maybe_text("since"),
        remote=a.maybe_text("remote"),
    )


def _show(a: Args) -> int:
    from git_snapshot.commands.show import cmd_show

    return cmd_show(
        cwd=a.cwd,
        snapshot_id=a.text("id"),
        paths=a.texts("paths"),
        json_out=a.flag("json"),
        repo_arg=a.maybe_text("repo"),
        remote=a.maybe_text("remote"),
    )


def _diff(a: Args) -> int:
    from git_snapshot.commands.diff import cmd_diff

    return cmd_diff(
        cwd=a.cwd,
        ids=a.texts("ids"),
        paths=a.texts("paths"),
        stat_only=a.flag("stat"),
        patch=a.flag("patch"),
        exit_code=a.flag("exit_code"),
        json_out=a.flag("json"),
        repo_arg=a.maybe_text("repo"),
    )


def _restore(a: Args) -> int:
    from git_snapshot.commands.restore import cmd_restore

    return cmd_restore(
        cwd=a.cwd,
        snapshot_id=a.text("id"),
        paths=a.texts("paths"),
        to=a.maybe_text("to"),
        dry_run=a.flag("dry_run"),
        delete=a.flag("delete"),
        repo_arg=a.maybe_text("repo"),
        here=a.flag("here"),
        newest=a.flag("newest"),
        json_out=a.flag("json"),
        remote=a.maybe_text("remote"),
        this_store=a.flag("this_store"),
    )


def _verify(a: Args) -> int:
    from git_snapshot.commands.verify import cmd_verify

    remote = a.maybe_text("remote")
    if remote is not None:
        from git_snapshot.commands.verify import cmd_verify_remote

        return cmd_verify_remote(
            name=remote,
            cwd=a.cwd,
            ids=a.texts("ids"),
            read_data=a.flag("read_data"),
            json_out=a.flag("json"),
        )
    return cmd_verify(
        cwd=a.cwd, ids=a.texts("ids"), read_data=a.flag("read_data"), json_out=a.flag("json")
    )


def _prune(a: Args) -> int:
    from git_snapshot.commands.prune import cmd_prune

    return cmd_prune(
        cwd=a.cwd,
        keep_last=a.maybe_int("keep_last"),
        keep_within=a.maybe_text("keep_within"),
        keep_hourly=a.maybe_int("keep_hourly"),
        keep_daily=a.maybe_int("keep_daily"),
        keep_weekly=a.maybe_int("keep_weekly"),
        all_repos=a.flag("all"),
        dry_run=a.flag("dry_run"),
        json_out=a.flag("json"),
    )


def _repair(a: Args) -> int:
    from git_snapshot.commands.repair import cmd_repair

    return cmd_repair(dry_run=a.flag("dry_run"))


def _export(a: Args) -> int:
    from git_snapshot.commands.export import cmd_export

    return cmd_export(
        cwd=a.cwd,
        snapshot_id=a.text("id"),
        file=a.text("file"),
        repo_arg=a.maybe_text("repo"),
        remote=a.maybe_text("remote"),
        force=a.flag("force"),
    )


def _run(a: Args) -> int:
    from git_snapshot.commands.run import cmd_run

    return cmd_run(
        cwd=a.cwd, message=a.text("message"), command=a.texts("cmd"), json_out=a.flag("json")
    )


def _losses(a: Args) -> int:
    from git_snapshot.commands.losses import cmd_losses

    return cmd_losses(cwd=a.cwd, json_out=a.flag("json"))


def _undo(a: Args) -> int:
    from git_snapshot.commands.losses import cmd_undo

    return cmd_undo(cwd=a.cwd, dry_run=a.flag("dry_run"), this_store=a.flag("this_store"))


def _install(a: Args) -> int:
    from git_snapshot.commands.install import cmd_install

    return cmd_install(cwd=a.cwd)


def _uninstall(a: Args) -> int:
    from git_snapshot.commands.install import cmd_uninstall

    return cmd_uninstall(cwd=a.cwd)


def _doctor(a: Args) -> int:
    from git_snapshot.commands.doctor import cmd_doctor

    return cmd_doctor(cwd=a.cwd)


def _hook(a: Args) -> int:
    from git_snapshot.commands.hook import cmd_hook

    return cmd_hook(cwd=a.cwd, name=a.text("name"), args=a.texts("args"))


def _log(a: Args) -> int:
    from git_snapshot.commands.log import cmd_log

    return cmd_log(
        cwd=a.cwd,
        path=a.text("path"),
        json_out=a.flag("json"),
        repo_arg=a.maybe_text("repo"),
        remote=a.maybe_text("remote"),
    )


def _cat(a: Args) -> int:
    from git_snapshot.commands.cat import cmd_cat

    return cmd_cat(
        cwd=a.cwd,
        snapshot_id=a.text("id"),
        path=a.text("path"),
        repo_arg=a.maybe_text("repo"),
        remote=a.maybe_text("remote"),
        this_store=a.flag("this_store"),
    )


def _find(a: Args) -> int:
    from git_snapshot.commands.find import cmd_find

    return cmd_find(
        cwd=a.cwd,
        pattern=a.text("pattern"),
        all_repos=a.flag("all"),
        json_out=a.flag("json"),
        repo_arg=a.maybe_text("repo"),
    )


def _forget(a: Args) -> int:
    from git_snapshot.commands.forget import cmd_forget

    return cmd_forget(
        cwd=a.cwd,
        ids=a.texts("ids"),
        dry_run=a.flag("dry_run"),
        json_out=a.flag("json"),
        repo_arg=a.maybe_text("repo"),
    )


def _stats(a: Args) -> int:
    from git_snapshot.commands.stats import cmd_stats

    return cmd_stats(cwd=a.cwd, json_out=a.flag("json"))


def _remote_cmd(a: Args) -> int:
    from git_snapshot.commands import remote

    action = a.text("remote_command")
    if action == "add":
        return remote.cmd_remote_add(
            name=a.text("name"), url=a.text("url"), key_file=a.maybe_text("key"), cwd=a.cwd
        )
    if action == "list":
        return remote.cmd_remote_list(json_out=a.flag("json"), cwd=a.cwd)
    if action == "remove":
        return remote.cmd_remote_remove(name=a.text("name"))
    return remote.cmd_remote_prune(
        name=a.text("name"), keep_last=a.maybe_int("keep_last"), dry_run=a.flag("dry_run")
    )


def _push(a: Args) -> int:
    from git_snapshot.commands.push import cmd_push

    return cmd_push(name=a.maybe_text("name"), auto=a.flag("auto"))


def _pull(a: Args) -> int:
    from git_snapshot.commands.pull import cmd_pull

    return cmd_pull(name=a.maybe_text("name"))


def _watch(a: Args) -> int:
    from git_snapshot.commands.watch import cmd_watch

    return cmd_watch(
        cwd=a.cwd,
        action=a.maybe_text("action"),
        path=a.maybe_text("path"),
        json_out=a.flag("json"),
        install_service=a.flag("install_service"),
        foreground=a.flag("foreground"),
    )


def _completion(a: Args) -> int:
    from git_snapshot.commands.completion import cmd_completion

    return cmd_completion(shell=a.text("shell"))


def _complete(a: Args) -> int:
    from git_snapshot.commands.completion import cmd_complete

    return cmd_complete(cwd=a.cwd, what=a.text("what"), snapshot_id=a.maybe_text("id"))


COMMANDS: dict[str, Callable[[Args], int]] = {
    "create": _create,
    "list": _list,
    "show": _show,
    "diff": _diff,
    "restore": _restore,
    "verify": _verify,
    "prune": _prune,
    "repair": _repair,
    "export": _export,
    "run": _run,
    "losses": _losses,
    "undo": _undo,
    "install": _install,
    "uninstall": _uninstall,
    "doctor": _doctor,
    "hook": _hook,
    "completion": _completion,
    "__complete": _complete,
    "log": _log,
    "cat": _cat,
    "find": _find,
    "forget": _forget,
    "stats": _stats,
    "remote": _remote_cmd,
    "push": _push,
    "pull": _pull,
    "watch": _watch,
}


def _say_waits() -> None:
    """A person watching is told when the command waits for another git-snapshot to finish
    with the store (a prune waits for a whole restore): one line, instead of what looks hung."""
    from git_snapshot import output

    if output.is_tty(sys.stderr):
        from git_snapshot.store.core import Store

        Store.on_wait = _waiting


def _waiting() -> None:
    print(
        "git-snapshot: waiting for another git-snapshot to finish with the store "
        "(a snapshot, restore, prune or repair)...",
        file=sys.stderr,
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    from git_snapshot import hookmain  # the hooks skip building the parser: see there

    if hookmain.is_hook_call(argv):
        return hookmain.run(argv[1:])
    command, args = parse(argv)
    try:
        from git_snapshot import boundary
        from git_snapshot import output

        _cwd_exists(args.cwd)
        output.setup(cwd=args.cwd, color=args.text("color"))
        _watch_stdout()
        _say_waits()
        with boundary.entry(), output.paged(command in PAGED and not args.flag("no_pager")):
            code = COMMANDS[command](args)
            sys.stdout.flush()  # output that cannot be written fails here, not at exit
            return code
    except UserError as exc:
        from git_snapshot import output  # a path or label as typed: one line, escaped

        print(f"git-snapshot: {output.one_line(_user_message(exc))}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1
    except KeyboardInterrupt as exc:  # (a restore's says what it left and what to do)
        print(f"git-snapshot: {exc.args[0] if exc.args else 'interrupted'}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        from git_snapshot import output

        output.to_devnull(sys.stdout)
        return 1
    except Exception as exc:  # a bug: say so in one line, keep the details for a report
        if exc is _Stdout.failed:  # not a bug: a full disk, a quota, /dev/full
            from git_snapshot import output

            output.to_devnull(sys.stdout)
            print(f"git-snapshot: the output is incomplete: {exc.strerror}", file=sys.stderr)
            return 1
        where = _crash_log()
        print(f"git-snapshot: internal error: {exc!r}{where}; please report it", file=sys.stderr)
        return 1


def _cwd_exists(cwd: str) -> None:
    """UserError when the directory a relative *cwd* (-C PATH, or '.') is read from is gone:
    every path the command works out from it would fail (an rm -rf, a branch switch or a
    `git stash -u` removed the folder the shell is in; RED30: an internal error)."""
    if os.path.isabs(cwd):
        return
    try:
        os.getcwd()
    except FileNotFoundError:
        raise UserError(
            "the current directory no longer exists (deleted while you were in it): cd to "
            "the worktree, or pass -C PATH; a deleted repository's losses are listed by "
            "git snapshot losses, run in any directory"
        ) from None


class _Stdout(io.FileIO):
    """The standard output's file descriptor, remembering the write that failed: output
    that cannot be written is then told apart from the program's own failures."""

    failed: OSError | None = None

    def write(self, b: ReadableBuffer, /) -> int:
        try:
            return super().write(b)
        except OSError as exc:
            _Stdout.failed = exc
            raise


def _watch_stdout() -> None:
    """Write the standard output through :class:`_Stdout` (unless something, a test's
    capture, has put its own in place of the process's)."""
    out = sys.stdout
    if out is not sys.__stdout__ or not isinstance(out, io.TextIOWrapper):
        return
    raw = _Stdout(out.fileno(), "w", closefd=False)
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(raw),
        encoding=out.encoding,
        errors=out.errors,
        line_buffering=out.line_buffering,
    )


def _user_message(exc: UserError) -> str:
    # store.objects is loaded already whenever one of its errors was raised
    objects = sys.modules.get("git_snapshot.store.objects")
    if objects is not None and isinstance(exc, objects.CorruptObject):
        advice = getattr(exc, "advice", None)  # (a remote's: RemoteStore._damaged)
        return f"damaged snapshot data ({exc}); " + (
            advice or "see which snapshots and paths with: git snapshot verify --read-data"
        )
    return str(exc)


def _crash_log() -> str:
    """Write the traceback under the user log directory; " (details in PATH)" or ""."""
    import traceback

    import platformdirs

    log_dir = platformdirs.user_log_dir("git-snapshot", appauthor=False)
    log = os.path.join(log_dir, "crash.log")
    try:  # private: a traceback names the user's paths (RED40 C8: was 0644)
        os.makedirs(log_dir, mode=0o700, exist_ok=True)
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)  # (one an older version made)
        with open(fd, "a", encoding="utf-8") as f:
            traceback.print_exc(file=f)
    except OSError:
        return ""
    return f" (details in {log})"


if __name__ == "__main__":
    sys.exit(main())
