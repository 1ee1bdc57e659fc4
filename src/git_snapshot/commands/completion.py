"""``git snapshot completion bash|zsh|fish``: the shell completion script (shtab writes it from
the argparse tree); ``git snapshot __complete ids|paths [ID]``: the words it completes that
only the store knows (snapshot ids, paths inside a snapshot)."""

from __future__ import annotations

import argparse
import os

PROG = "git-snapshot"
# What the bash script asks for; in the words of the command line git-snapshot sees, the
# snapshot id of 'restore ID PATH' / 'show ID PATH' / 'cat ID PATH' is the third word.
IDS = f"{PROG} __complete ids 2>/dev/null"
PATHS = f'{PROG} __complete paths "${{COMP_WORDS[2]}}" 2>/dev/null'

# git's bash completion calls _git_<command> for 'git <command> ...' with git's words
# (git snapshot list --j): hand shtab's function the words git-snapshot itself would see.
BASH_GIT = """
_git_snapshot() {
  local COMP_WORDS=("git-snapshot" "${COMP_WORDS[@]:2}")
  local COMP_CWORD=$((COMP_CWORD - 1))
  _shtab_git_snapshot
}
"""
ZSH_GIT = """
# for 'git snapshot ...' too: zstyle ':completion:*:*:git:*' user-commands snapshot:'snapshots'
_git-snapshot() { _shtab_git_snapshot "$@"; }
"""
FISH_GIT = """
# 'git snapshot ...': the subcommands and their options, as for git-snapshot
complete -c git -n '__fish_seen_subcommand_from snapshot' -w git-snapshot
"""


# bash: each line of the command's output that starts with the word typed, as a word of the
# command line (printf %q: a space, a quote or a $ in a path escaped), matched as typed (the
# word given is as the user wrote it, escapes and all). compgen -W split the output at every
# space: a path holding one was offered as its pieces (RED30)
BASH_LINES = """{name}() {{
  local line quoted
  while IFS= read -r line; do
    printf -v quoted '%q' "$line"
    [[ $quoted == "$1"* || $line == "$1"* ]] && printf '%s\\n' "$quoted"
  done < <({command})
}}
"""


def _cmd(command: str) -> dict[str, object]:
    """A shtab completion that runs *command* (one word per line) in the user's shell."""
    name = "_git_snapshot_" + ("paths" if "paths" in command else "ids")
    return {
        "bash": name,
        "zsh": f"($({command.replace('${COMP_WORDS[2]}', '${words[3]}')}))",
        "fish": f"({command.replace('${COMP_WORDS[2]}', '(commandline -opc)[3]')})",
        "preamble": {"bash": BASH_LINES.format(name=name, command=command)},
    }


def _annotate(parser: argparse.ArgumentParser) -> None:
    """Snapshot ids and paths inside a snapshot, wherever an argument takes them."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _annotate(sub)
        elif action.dest in ("id", "ids"):
            action.complete = _cmd(IDS)  # type: ignore[attr-defined]
        elif action.dest in ("paths", "path") and parser.prog.split()[-1] != "log":
            action.complete = _cmd(PATHS)  # type: ignore[attr-defined]
        elif action.dest in ("to", "file", "cwd"):
            import shtab

            action.complete = shtab.DIRECTORY if action.dest != "file" else shtab.FILE  # type: ignore[attr-defined]


def script(shell: str) -> str:
    import shtab  # only here: no other command pays for it

    from git_snapshot.cliparse import public_parser

    parser = public_parser()
    parser.prog = PROG
    _annotate(parser)
    text = str(shtab.complete(parser, shell=shell))
    return text + {"bash": BASH_GIT, "zsh": ZSH_GIT, "fish": FISH_GIT}[shell]


def cmd_completion(*, shell: str) -> int:
    print(script(shell), end="")
    return 0


def cmd_complete(*, cwd: str, what: str, snapshot_id: str | None = None) -> int:
    """One word per line; nothing (never an error) where there is nothing to offer."""
    from git_snapshot import identity
    from git_snapshot.commands.common import from_here
    from git_snapshot.commands.common import here_in
    from git_snapshot.commands.common import pick
    from git_snapshot.commands.common import repo_at
    from git_snapshot.errors import UserError
    from git_snapshot.store import Store

    try:
        repo = repo_at(cwd)
        with Store() as store:
            if what == "ids":
                words = ["latest"] + [
                    str(s.id) for s in store.snapshots(identity.source(store, repo), repo.toplevel)
                ]
            else:
                snap = pick(store, repo, snapshot_id or "latest")
                here = here_in(repo, cwd)  # PATHs are typed relative to it
                words = [os.fsdecode(from_here(here, p)) for p, _ in store.walk(snap.root)]
    except (UserError, OSError):
        return 0
    print("\n".join(w for w in words if "\n" not in w))
    return 0
