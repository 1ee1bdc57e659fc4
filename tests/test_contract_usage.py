"""Every command and option of DESIGN.md's interface table, as the table writes it, is read by
the command line the way the table means it (parsing only: what each does is tested
elsewhere). The lines below are DESIGN.md's, one form each; a renamed option fails here."""

from __future__ import annotations

import shlex

import pytest

from git_snapshot.cliparse import parse

# (the command line, the command it names, values it must carry: attribute -> value)
DESIGN = [
    ("-m MSG --json", "create", {"message": "MSG", "json": True}),
    ("create -m MSG --json", "create", {"message": "MSG", "json": True}),
    ("list --all -n 3 --since 2026-12-01 --json", "list", {"all": True, "json": True}),
    ("show 12 a b --json", "show", {"paths": ["a", "b"], "json": True}),
    ("diff 12 14 --stat -p --exit-code --json -- a b", "diff", {"paths": ["a", "b"]}),
    ("diff", "diff", {}),
    ("restore 12 a b --to DIR --dry-run --delete", "restore", {"paths": ["a", "b"]}),
    ("verify 12 14 --read-data", "verify", {"ids": ["12", "14"], "read_data": True}),
    ("prune --keep-last 5 --keep-within 2w --dry-run", "prune", {"dry_run": True}),
    ("export 12 out.tar.zst", "export", {}),
    ("run -m MSG -- git reset --hard", "run", {"message": "MSG"}),
    ("install", "install", {}),
    ("uninstall", "uninstall", {}),
    ("hook post-checkout a b 1", "hook", {"name": "post-checkout", "args": ["a", "b", "1"]}),
    ("log a/b --json", "log", {"json": True}),
    ("cat 12 a/b", "cat", {}),
    ("find '*.env' --all --json", "find", {"all": True, "json": True}),
    ("forget 12 14 --dry-run", "forget", {"dry_run": True}),
    ("stats --json", "stats", {"json": True}),
    ("losses --json", "losses", {"json": True}),
    ("undo --dry-run", "undo", {"dry_run": True}),
    ("doctor", "doctor", {}),
    ("repair --dry-run", "repair", {"dry_run": True}),
    ("watch", "watch", {}),
    ("watch status", "watch", {}),
    ("watch stop", "watch", {}),
    ("watch add ../other", "watch", {}),
    ("watch remove ../other", "watch", {}),
    ("watch --install-service", "watch", {}),
    ("remote add nas /mnt/usb", "remote", {}),
    ("remote list", "remote", {}),
    ("remote remove nas", "remote", {}),
    ("push nas", "push", {}),
    ("push", "push", {}),
    ("pull nas", "pull", {}),
    ("-C ../proj list", "list", {}),
    # --repo on list, show, diff, log, cat, restore and export; --remote on list, log, show,
    # cat, restore and export, and verify
    *(
        (f"{c} {where} {rest}".strip(), c, {})
        for where in ("--repo proj", "--remote nas")
        for c, rest in (
            ("list", ""),
            ("show", "12"),
            ("diff", ""),
            ("log", "a"),
            ("cat", "12 a"),
            ("restore", "12 a --to DIR"),
            ("export", "12 out.tar"),
            ("verify", ""),
        )
        if (c, where) not in (("diff", "--remote nas"), ("verify", "--repo proj"))
    ),
]


@pytest.mark.parametrize(("line", "command", "values"), DESIGN, ids=[d[0] for d in DESIGN])
def test_design_s_command_lines_parse_as_meant(
    line: str, command: str, values: dict[str, object]
) -> None:
    got, args = parse(shlex.split(line))
    assert got == command, (line, got)
    for name, want in values.items():
        assert getattr(args._ns, name) == want, (line, name, getattr(args._ns, name))
    if command == "run":
        assert args.texts("cmd")[-3:] == ["git", "reset", "--hard"]
