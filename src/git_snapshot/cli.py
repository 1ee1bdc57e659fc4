"""The command line: one argparse tree; each command is a function returning an exit code."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from git_snapshot import boundary
from git_snapshot.errors import UserError
from git_snapshot.store.objects import CorruptObject

EPILOG = "Snapshots live in GIT_SNAPSHOT_STORE or ~/.local/share/git-snapshot. Docs: README.md"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="git snapshot",
        description="Snapshots of the whole worktree: tracked, untracked and ignored files.",
        epilog=EPILOG,
    )
    p.add_argument("-C", dest="cwd", metavar="PATH", default=".", help="run as if started in PATH")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    c = sub.add_parser("create", help="take a snapshot now (also: bare 'git snapshot')")
    c.add_argument("-m", "--message", default="")
    c.add_argument("--json", action="store_true")

    c = sub.add_parser("list", help="snapshots of this worktree, newest last")
    c.add_argument("--all", action="store_true", help="every repository in the store")
    c.add_argument("--json", action="store_true")

    c = sub.add_parser("show", help="the entries of one snapshot")
    c.add_argument("id")
    c.add_argument("--json", action="store_true")

    c = sub.add_parser("diff", help="changes between a snapshot and the worktree, or two snapshots")
    c.add_argument("ids", nargs="*", metavar="ID", help="default: latest")
    c.add_argument("--json", action="store_true")

    c = sub.add_parser("restore", help="bring files back from a snapshot")
    c.add_argument("id")
    c.add_argument("paths", nargs="*", metavar="PATH")
    c.add_argument("--to", metavar="DIR", help="restore into DIR instead of the worktree")
    c.add_argument("--dry-run", action="store_true", help="list what would change")
    c.add_argument("--delete", action="store_true", help="also delete files not in the snapshot")

    c = sub.add_parser("verify", help="check the store; name every damaged snapshot and path")
    c.add_argument("ids", nargs="*", metavar="ID")
    c.add_argument("--read-data", action="store_true", help="also read and re-hash every object")

    c = sub.add_parser("prune", help="apply retention and reclaim space")
    c.add_argument("--keep-last", type=int, metavar="N")
    c.add_argument("--keep-within", metavar="DURATION", help="e.g. 7d, 12h, 2w")
    c.add_argument("--all", action="store_true", help="every repository in the store")
    c.add_argument("--dry-run", action="store_true")

    c = sub.add_parser("repair", help="rebuild a lost or damaged index from the packs")
    c.add_argument("--dry-run", action="store_true", help="say what a rebuild would find")

    c = sub.add_parser("export", help="write a snapshot as .tar, .tar.gz or .tar.zst")
    c.add_argument("id")
    c.add_argument("file")

    c = sub.add_parser("run", help="snapshot, run CMD, report what it destroyed")
    c.add_argument("-m", "--message", default="")
    c.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD [ARG...]")

    c = sub.add_parser("losses", help="past loss reports of this worktree")
    c.add_argument("--json", action="store_true")

    c = sub.add_parser("undo", help="restore what the latest loss report named")
    c.add_argument("--dry-run", action="store_true", help="list what would change")

    sub.add_parser("install", help="install the plain git hooks in this repository")
    sub.add_parser("uninstall", help="remove them, putting back what was there")
    sub.add_parser("doctor", help="per hook: will it fire, what else runs there; the store")

    c = sub.add_parser("hook", help="entry point of the hook shims")
    c.add_argument("name")
    c.add_argument("args", nargs=argparse.REMAINDER)
    return p


def _dispatch(args: argparse.Namespace) -> int:
    cmd = args.command or "create"
    if cmd == "hook":
        from git_snapshot import hooks

        return hooks.run_hook(args.name, args.args, cwd=args.cwd)
    from git_snapshot import commands

    func = getattr(commands, f"cmd_{cmd}")
    return int(func(args))


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # restore's PATHs may follow its options (restore 3 --to DIR a b)
        if args.command != "restore" or any(e.startswith("-") for e in extra):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.paths += extra
    if args.command is None:
        args.message, args.json = "", False
    try:
        with boundary.entry():
            return _dispatch(args)
    except CorruptObject as exc:
        print(
            f"git-snapshot: damaged snapshot data ({exc}); see which snapshots and paths "
            "with: git snapshot verify --read-data",
            file=sys.stderr,
        )
        return 1
    except UserError as exc:
        print(f"git-snapshot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("git-snapshot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # a bug: say so in one line, keep the details for a report
        log = os.path.join(os.path.expanduser("~"), ".git-snapshot-crash.log")
        try:
            with open(log, "a", encoding="utf-8") as f:
                traceback.print_exc(file=f)
            where = f" (details in {log})"
        except OSError:
            where = ""
        print(f"git-snapshot: internal error: {exc!r}{where}; please report it", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
