"""The command line's argparse tree, and the parse of one command line into typed arguments.

:func:`build_parser` is also what the man page and the shell completion scripts are generated
from (:func:`public_parser`). :func:`parse` builds only the parser of the command named (all 30
cost 25-40 ms) and returns :class:`Args`, whose reads fail loudly on a wrong type; what runs
each command is :mod:`git_snapshot.cli`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence

from git_snapshot import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

PROG = "git snapshot"
EPILOG = (
    "Snapshots live in GIT_SNAPSHOT_STORE or the user data directory "
    "(~/.local/share/git-snapshot). 'git snapshot --help' shows the manual; "
    "'git snapshot COMMAND -h' a command's options."
)
# Commands git-snapshot runs itself; left out of -h, the man page and completion.
HIDDEN = frozenset({"hook", "__complete"})


def _columns() -> int:
    """shutil.get_terminal_size().columns without shutil (fnmatch, zlib, bz2, lzma: argparse's
    HelpFormatter imports it for this at the first add_argument of every command)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80  # shutil's fallback


class Formatter(argparse.HelpFormatter):
    """argparse's own, its width found as shutil finds it."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        super().__init__(
            prog, indent_increment, max_help_position, _columns() - 2 if width is None else width
        )

    # an option whose value is optional (--color) takes it glued, as git's does: argparse's
    # `--color [WHEN]` invited `--color always list`, which reads `always` as the command
    def _format_usage(
        self,
        usage: str | None,
        actions: Iterable[argparse.Action],
        groups: Iterable[argparse._MutuallyExclusiveGroup],
        prefix: str | None,
    ) -> str:
        actions = list(actions)
        text = super()._format_usage(usage, actions, groups, prefix)
        for action in actions:
            for spaced, glued in _glued(action):
                text = text.replace(spaced, glued)  # (as long: the lines wrap the same)
        return text

    def _format_action_invocation(self, action: argparse.Action) -> str:
        pairs = _glued(action)
        if not pairs:
            return super()._format_action_invocation(action)
        return ", ".join(glued for _, glued in pairs)


def _glued(action: argparse.Action) -> list[tuple[str, str]]:
    """For an option whose value may be left out: each of its names as argparse writes it
    with the value, and as written glued (`--color [WHEN]`, `--color[=WHEN]`)."""
    names = [o for o in action.option_strings if o.startswith("--")]
    if action.nargs != argparse.OPTIONAL or not names:
        return []
    value = action.metavar or action.dest.upper()
    return [(f"{o} [{value}]", f"{o}[={value}]") for o in names]


class Parser(argparse.ArgumentParser):
    """argparse, plus "did you mean ...?" for a mistyped command."""

    newest_given = False  # restore --newest was read (_Newest): its words are PATHs, no ID

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        if "invalid choice" in message:  # argparse's list would name the hidden commands
            message = message.split(" (choose from", 1)[0] + _suggestion(message, self)
        if self.newest_given and message.endswith("arguments are required: ID"):
            # its first PATH fills ID: 'required: ID' named what --newest takes none of
            message = "--newest takes the PATHs to restore, no ID: restore --newest PATH..."
        from git_snapshot import output

        message = message.replace(repr(_DASHES)[1:-1], "--").replace(_DASHES, "--")
        super().error(output.one_line(message))  # an argument as typed: one line, escaped


class _Newest(argparse._StoreTrueAction):
    """restore's --newest, a flag its parser remembers for the error of a missing PATH."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        super().__call__(parser, namespace, values, option_string)
        if isinstance(parser, Parser):
            parser.newest_given = True


def _suggestion(message: str, parser: argparse.ArgumentParser) -> str:
    import difflib  # only on a typo

    wrong = message.split("invalid choice: ", 1)[1].split(" ", 1)[0].strip("'")
    names = [n for n in _subcommands(parser) if n not in HIDDEN]
    close = difflib.get_close_matches(wrong, names, n=3, cutoff=0.5)
    if not close:
        return f" (see: {PROG} -h)"
    return "; did you mean " + " or ".join(close) + "?"


def _subcommands(parser: argparse.ArgumentParser) -> list[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def _json(c: argparse.ArgumentParser, what: str = "the same, as JSON") -> None:
    c.add_argument("--json", action="store_true", help=what)


def _message(c: argparse.ArgumentParser) -> None:
    c.add_argument("-m", "--message", default="", help="a note to find the snapshot by later")


def _this_store(c: argparse.ArgumentParser) -> None:
    c.add_argument(
        "--this-store",
        action="store_true",
        help="this store's snapshot, also when the repository has snapshots of that number "
        "in another store (GIT_SNAPSHOT_STORE set elsewhere)",
    )


def _repo(c: argparse.ArgumentParser) -> None:
    c.add_argument(
        "--repo",
        metavar="PATH|NAME",
        help="another repository in the store, existing or deleted (see list --all)",
    )


def _remote(c: argparse.ArgumentParser) -> None:
    c.add_argument(
        "--remote",
        metavar="NAME",
        help="read from this remote (see remote list) instead of the local store",
    )


class _Skipped:
    """What a command :func:`build_parser` was not asked for is built into: nothing (any
    method call returns it again, so the command's lines run unchanged)."""

    def __init__(self, *args: object, **kwargs: object) -> None:  # argparse's parser_class
        pass

    def __getattr__(self, name: str) -> Callable[..., _Skipped]:
        return self._nothing

    def _nothing(self, *args: object, **kwargs: object) -> _Skipped:
        return self


# build_parser(only=LISTING): every command's name and help line, none of its options
LISTING = "\0listing"


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole tree; with *only*, the top level and that one command (building all 30
    parsers costs 25-40 ms, a third of a snapshot's fixed cost; see :func:`parse`); with
    *only* LISTING, what the top level's -h prints: the commands and their help lines, each
    built into nothing (half the cost was making the 30 parsers)."""
    p = Parser(
        prog=PROG,
        description=(
            "Snapshots of the whole git worktree (tracked, untracked and ignored files), taken "
            "by git's hooks before anything git does can destroy them, and on demand. "
            "Without a command: take a snapshot now (as 'git snapshot create')."
        ),
        epilog=EPILOG,
    )
    # as git's: each relative -C is relative to the one before it; -C "" changes nothing
    p.add_argument(
        "-C",
        dest="cwd",
        metavar="PATH",
        action="append",
        default=[],
        help="run as if started in PATH",
    )
    p.add_argument("--version", action="version", version=f"git-snapshot {__version__}")
    p.add_argument(
        "-P",
        "--no-pager",
        action="store_true",
        help="never pipe output into a pager (show, diff, log, list and find use git's pager "
        "on a terminal; pager.snapshot=false turns it off for good)",
    )
    p.add_argument(
        "--color",
        nargs="?",
        const="always",
        default="auto",
        choices=("auto", "always", "never"),
        metavar="WHEN",
        help="colour output: auto (the default: as color.snapshot, color.ui and NO_COLOR say, "
        "on a terminal), always, never",
    )
    p.add_argument(
        "--no-color", dest="color", action="store_const", const="never", help="no colour"
    )
    # LISTING: the commands' parsers are built into nothing (argparse keeps each help line)
    kind: type[Parser] = _Skipped if only == LISTING else Parser  # type: ignore[assignment]
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=kind)

    def add(name: str, description: str, help: str | None = None) -> argparse.ArgumentParser:
        if only is not None and name != only and only != LISTING:
            return _Skipped()  # type: ignore[return-value]
        if help is None:  # hidden: no help= keeps a command out of -h
            return sub.add_parser(name, description=description)
        return sub.add_parser(name, help=help, description=description)

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return add(name, text[:1].upper() + text[1:] + ".", help=text)

    c = command("create", "take a snapshot now (also: bare 'git snapshot')")
    _message(c)
    _json(c, "print the snapshot as JSON (the fields of 'list --json')")

    c = add(
        "list",
        "The snapshots of this worktree, newest last. SIZE is the size of a snapshot's files; "
        "ADDED the new bytes the store kept for it when it was taken (forget and prune do not "
        "change it: 'git snapshot stats' says what the store holds now).",
        help="the snapshots of this worktree, newest last",
    )
    c.add_argument("--all", action="store_true", help="every repository in the store")
    c.add_argument("-n", type=int, dest="limit", metavar="N", help="only the newest N")
    c.add_argument("--since", metavar="DATE", help="only those taken since DATE (git's syntax)")
    _repo(c)
    _remote(c)
    _json(c, "a JSON array, oldest first")

    c = command("show", "the entries of one snapshot, each tracked, untracked or ignored")
    c.add_argument("id", metavar="ID", help="a snapshot id (see list), latest, latest~N or @{DATE}")
    # default=[]: else argparse names an optional PATH as required when ID is missing
    c.add_argument(
        "paths", nargs="*", default=[], metavar="PATH", help="only these files or folders"
    )
    _repo(c)
    _remote(c)
    _json(c)

    c = command("diff", "what changed between a snapshot and the worktree, or two snapshots")
    c.add_argument(
        "ids",
        nargs="*",
        metavar="ID|PATH",
        help="one or two snapshot ids (default: latest), then only these paths (a path named "
        "like an id is written ./7)",
    )
    c.add_argument("--stat", action="store_true", help="lines added and removed per file")
    c.add_argument("-p", "--patch", action="store_true", help="a unified diff of text files")
    c.add_argument("--exit-code", action="store_true", help="exit 1 when there are differences")
    c.set_defaults(paths=[])
    _repo(c)
    _json(c)

    c = command("restore", "bring files back from a snapshot")
    c.add_argument(
        "id",
        metavar="ID",
        help="the snapshot to restore from (see list), latest, latest~N or @{DATE}",
    )
    # default=[]: else argparse names an optional PATH as required when ID is missing
    c.add_argument(
        "paths",
        nargs="*",
        default=[],
        metavar="PATH",
        help="only these files or folders, relative to the current directory as in git (the "
        "paths it prints are too)",
    )
    c.add_argument("--to", metavar="DIR", help="restore into DIR instead of the worktree")
    c.add_argument("--dry-run", action="store_true", help="list what would change")
    c.add_argument("--delete", action="store_true", help="also delete files not in the snapshot")
    c.add_argument("--here", action="store_true", help="into this worktree, whichever took it")
    _this_store(c)
    c.add_argument(
        "--newest",
        action=_Newest,
        help=(
            "from the newest snapshot holding the PATHs, passing over those that hold them as "
            "the worktree does and pre-restore ones (one holding another version is named) "
            "(then no ID: restore --newest PATH)"
        ),
    )
    _json(c, "what was restored, as JSON")
    _repo(c)
    _remote(c)

    c = command("verify", "check the store; name every damaged snapshot and path")
    c.add_argument("ids", nargs="*", metavar="ID", help="only these snapshots (default: all)")
    c.add_argument("--read-data", action="store_true", help="also read and re-hash every object")
    c.add_argument("--remote", metavar="NAME", help="check this remote's copy instead")
    _json(c, "the report as JSON (exit 1 still means damage)")

    c = add(
        "prune",
        "Apply retention and reclaim space. Without a --keep-* option: the snapshot.keep* "
        "settings (git config); any --keep-* option replaces them all (one not given keeps "
        "nothing). A worktree's newest snapshot, and those a recent loss report names, are "
        "always kept.",
        help="apply retention and reclaim space",
    )
    c.add_argument(
        "--keep-last", type=int, metavar="N", help="keep the newest N snapshots of each worktree"
    )
    c.add_argument(
        "--keep-within",
        metavar="DURATION",
        help="keep those younger, e.g. 7d, 12h, or git's 2.weeks.ago",
    )
    for period, unit in (("hourly", "hour"), ("daily", "day"), ("weekly", "week")):
        c.add_argument(
            f"--keep-{period}",
            type=int,
            metavar="N",
            help=f"keep the newest snapshot of each of the last N {unit}s that have one",
        )
    c.add_argument("--all", action="store_true", help="every repository in the store")
    c.add_argument("--dry-run", action="store_true", help="say what would go, remove nothing")
    _json(c)

    c = command("repair", "rebuild a lost or damaged index from the packs")
    c.add_argument("--dry-run", action="store_true", help="say what a rebuild would find")

    c = command("export", "write a snapshot as .tar, .tar.gz, .tgz or .tar.zst")
    c.add_argument("id", metavar="ID", help="the snapshot to export, latest, latest~N or @{DATE}")
    c.add_argument("file", metavar="FILE", help="the archive to write; its name sets the format")
    c.add_argument("--force", action="store_true", help="replace FILE if it exists")
    _repo(c)
    _remote(c)

    c = command("run", "snapshot, run CMD, report what it destroyed")
    _message(c)
    _json(c, "after CMD's own output: the snapshot, CMD's exit status and what it destroyed")
    c.add_argument(
        "cmd", nargs=argparse.REMAINDER, metavar="-- CMD [ARG...]", help="the command to run"
    )

    c = command("losses", "past loss reports of this worktree")
    _json(c)

    c = command("undo", "restore what the latest loss report named")
    c.add_argument("--dry-run", action="store_true", help="list what would change")
    _this_store(c)

    command("install", "install the plain git hooks in this repository")
    command("uninstall", "remove them, putting back what was there")
    command("doctor", "per hook: will it fire, what else runs there; the store")

    c = command("log", "the versions of a file or folder across snapshots, where it changed")
    c.add_argument("path", metavar="PATH", help="a file or folder of the worktree")
    _repo(c)
    _remote(c)
    _json(c, "a JSON array, oldest first")

    c = command("cat", "one file's bytes from a snapshot, on stdout")
    c.add_argument("id", metavar="ID", help="the snapshot (see list), latest~N or @{DATE}")
    # (ID:PATH, git's REV:PATH habit, reads as ID PATH: _parse)
    c.add_argument("path", nargs="?", metavar="PATH", help="the file in that snapshot (or ID:PATH)")
    _this_store(c)
    _repo(c)
    _remote(c)

    c = command("find", "which snapshots hold paths matching a glob")
    c.add_argument(
        "pattern", metavar="PATTERN", help="a glob on the path, or on the name if it has no '/'"
    )
    c.add_argument("--all", action="store_true", help="in every repository in the store")
    _repo(c)
    _json(c, "a JSON array, one object per path and run of snapshots")

    c = command("forget", "drop chosen snapshots (the next gc reclaims their space)")
    c.add_argument("ids", nargs="+", metavar="ID", help="the snapshots to drop")
    c.add_argument("--dry-run", action="store_true", help="say what would go, drop nothing")
    _repo(c)
    _json(c)

    c = command("stats", "store size, per repository, dedup ratio, oldest and newest")
    _json(c)

    c = command("remote", "off-machine copies: remote add NAME URL, list, remove NAME, prune")
    rsub = c.add_subparsers(dest="remote_command", metavar="ACTION", parser_class=Parser)
    rsub.required = True
    r = rsub.add_parser("add", help="add a remote (s3://BUCKET[/PREFIX], file:///PATH, a dir)")
    r.add_argument("name", metavar="NAME", help="what push, pull and --remote call it")
    r.add_argument(
        "url",
        metavar="URL",
        help="s3://BUCKET[/PREFIX][?endpoint=URL&region=NAME] (credentials from the usual AWS "
        "variables and files), or file:///ABSOLUTE/PATH or a directory's path",
    )
    r.add_argument("--key", metavar="FILE", help="the key file of a remote another machine made")
    r = rsub.add_parser("list", help="the remotes, their key files and auto-push state")
    _json(r)
    r = rsub.add_parser("remove", help="forget a remote (nothing on it is deleted)")
    r.add_argument("name", metavar="NAME", help="the remote to forget")
    r = rsub.add_parser("prune", help="delete what no snapshot on the remote needs")
    r.add_argument("name", metavar="NAME", help="the remote to prune")
    r.add_argument(
        "--keep-last", type=int, metavar="N", help="first drop all but the newest N per repository"
    )
    r.add_argument("--dry-run", action="store_true", help="say what would go, delete nothing")

    c = command("push", "copy the snapshots a remote lacks to it")
    c.add_argument("name", nargs="?", metavar="NAME", help="the remote (default: the only one)")
    c.add_argument("--auto", action="store_true", help=argparse.SUPPRESS)  # hooks start it

    c = command("pull", "bring a remote's snapshots into the local store")
    c.add_argument("name", nargs="?", metavar="NAME", help="the remote (default: the only one)")

    c = command("watch", "the continuous-protection daemon: snapshots as changes settle")
    c.add_argument(
        "action",
        nargs="?",
        choices=("status", "stop", "add", "remove"),
        help="status: what it watches; stop; add PATH / remove PATH: a worktree (default: "
        "start it, watching this worktree too)",
    )
    c.add_argument("path", nargs="?", metavar="PATH", help="the worktree to add or remove")
    c.add_argument(
        "--install-service",
        action="store_true",
        help="write a systemd user unit so that it starts at login",
    )
    c.add_argument(
        "--foreground", action="store_true", help="run the daemon here (the service does)"
    )
    _json(c, "status as JSON")

    c = command("completion", "print the shell completion script (see the README)")
    c.add_argument("shell", choices=("bash", "zsh", "fish"), help="the shell to complete in")

    # hidden: no help= keeps a command out of -h (argparse lists only those with help)
    c = add("__complete", "Words for the completion scripts.")
    c.add_argument("what", choices=("ids", "paths"), help="snapshot ids, or paths in ID")
    c.add_argument("id", nargs="?", metavar="ID", help="the snapshot whose paths to list")

    c = add("hook", "The entry point of the hook shims.")
    c.add_argument("name", help="the git hook that fired")
    # (argparse 3.11 takes a REMAINDER for required: 'hook' alone said ARGs were required)
    c.add_argument("args", nargs=argparse.REMAINDER, help="the hook's arguments").required = False
    return p


def public_parser() -> argparse.ArgumentParser:
    """The tree without the commands git-snapshot runs itself: what the man page and the
    completion scripts describe."""
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name in HIDDEN:
                action.choices.pop(name, None)
    return parser


class Args:
    """Typed reads of a parsed command line: each fails loudly on a wrong type."""

    def __init__(self, ns: argparse.Namespace) -> None:
        self._ns = ns

    @property
    def cwd(self) -> str:
        """Where the command runs: the -C PATHs joined as git joins them."""
        out = "."
        for path in self.texts("cwd"):
            if path:
                out = os.path.join(out, path) if out != "." else path
        return out

    def text(self, name: str) -> str:
        value = getattr(self._ns, name)
        assert isinstance(value, str), (name, value)
        return value

    def maybe_text(self, name: str) -> str | None:
        value = getattr(self._ns, name)
        assert value is None or isinstance(value, str), (name, value)
        return value

    def maybe_int(self, name: str) -> int | None:
        value = getattr(self._ns, name)
        assert value is None or isinstance(value, int), (name, value)
        return value

    def flag(self, name: str) -> bool:
        value = getattr(self._ns, name, False)
        assert isinstance(value, bool), (name, value)
        return value

    def texts(self, name: str) -> list[str]:
        value = getattr(self._ns, name)
        assert isinstance(value, list) and all(isinstance(v, str) for v in value), (name, value)
        return value


def with_command(argv: Sequence[str]) -> list[str]:
    """*argv* with ``create`` put in where no command is named: bare ``git snapshot``,
    ``git snapshot -m MSG`` and ``git snapshot --json`` take a snapshot."""
    out = list(argv)
    i, named = _past_globals(out)
    return out if named else [*out[:i], "create", *out[i:]]


def _past_globals(out: list[str]) -> tuple[int, bool]:
    """Where the global options of *out* end (a bare ``--color`` made ``--color=always`` in
    place, as git reads it), and whether a command (or -h, --help, --version) is there."""
    from git_snapshot import hookmain  # the scan --version's fast path makes too

    i, bare = hookmain.past_globals(out, any_color=True)
    for at in bare:  # --color[=WHEN], as git: a bare one means always
        out[at] = "--color=always"
    named = i < len(out) and (out[i] in ("-h", "--help", "--version") or not out[i].startswith("-"))
    return i, named


# what a '--' past the first stands for while argparse reads the words: argparse drops every
# '--' it meets (`cat 1 -- --` left PATH empty: an internal error; `restore 1 -- --` restored
# the whole snapshot), while past the first one it is a word like any other (a file named
# '--'); no word of a command line can hold a NUL
_DASHES = "\0--"


def parse(argv: Sequence[str]) -> tuple[str, Args]:
    command, args = _parse(_guard_dashes(argv))
    for name, value in vars(args._ns).items():
        if value == _DASHES:
            setattr(args._ns, name, "--")
        elif isinstance(value, list) and _DASHES in value:
            setattr(args._ns, name, ["--" if v == _DASHES else v for v in value])
    return command, args


def _guard_dashes(argv: Sequence[str]) -> list[str]:
    """*argv* with each '--' past the first written _DASHES."""
    out = list(argv)
    if "--" in out:
        first = out.index("--")
        out[first + 1 :] = [_DASHES if w == "--" else w for w in out[first + 1 :]]
    return out


# the commands whose positional words end with a list, and its name: the words left over
# after their options belong to it
_TRAILING = {"show": "paths", "restore": "paths", "diff": "ids", "forget": "ids", "verify": "ids"}


def _parse(argv: Sequence[str]) -> tuple[str, Args]:
    words = with_command(argv)
    i, _ = _past_globals(words)
    named = words[i] if i < len(words) and not words[i].startswith("-") else None
    if named:
        parser = build_parser(only=named)
    elif i < len(words) and words[i] in ("-h", "--help"):  # prints the list of commands
        parser = build_parser(only=LISTING)
    else:
        parser = build_parser()
    if named and named not in _subcommands(parser):  # no such command: the whole tree says so
        parser = build_parser()
    ns, extra = parser.parse_known_args(words)
    command = str(ns.command)
    if (command == "show" or (command == "cat" and ns.path is None)) and isinstance(ns.id, str):
        from git_snapshot import snapids

        split = snapids.id_and_path(ns.id)
        if split is not None:  # `show 1:.env`, `cat 1:.env`: git's REV:PATH habit (RED44 F7)
            ns.id = split[0]
            if command == "show":
                ns.paths = [split[1], *ns.paths]
            else:
                ns.path = split[1]
    if command == "cat" and ns.path is None:
        _subparser(parser, command).error("the following arguments are required: PATH")
    if command == "diff" and "--" in words:
        # diff [ID [ID2]] [options] -- PATH...: what follows '--' is paths, wherever the
        # options are (argparse would take them for IDs, or leave them over)
        cut = words.index("--")
        ns, extra = parser.parse_known_args(words[:cut])
        ns.paths = words[cut + 1 :]
    if extra:
        # a command's PATHs (or IDs) may follow its options (restore 3 --to DIR a b, show 3
        # --json a: argparse fills a '*' list at once, and leaves what follows an option over;
        # RED32); anything else left over is a mistake, told with that command's own usage
        # (past a '--', even one starting with '-': restore 3 --dry-run -- -x)
        cut = extra.index("--") if "--" in extra else len(extra)
        rest = _TRAILING.get(command)
        if rest and not any(e.startswith("-") for e in extra[:cut]):
            setattr(ns, rest, [*getattr(ns, rest), *extra[:cut], *extra[cut + 1 :]])
        else:
            said = " ".join("--" if e == _DASHES else e for e in extra)
            _subparser(parser, command).error(f"unrecognized arguments: {said}")
    return command, Args(ns)


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    """*parser*'s parser of *command*, whose errors print that command's usage."""
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    sub: argparse.ArgumentParser = subs.choices[command]
    return sub
