"""``git snapshot watch``: start, stop and inspect the continuous-protection daemon."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from typing import Any

from git_snapshot import gitrepo
from git_snapshot import output
from git_snapshot.errors import UserError
from git_snapshot.store import location
from git_snapshot.watch import instance
from git_snapshot.watch import registry

SERVICE_NAME = "git-snapshot-watch.service"
START_WAIT_S = 5.0


def store_path() -> str:
    path = location.store_dir()
    location.check_store_dir(path)
    os.makedirs(path, mode=0o700, exist_ok=True)
    location.mark(path)
    return str(path)


def _toplevel(path: str) -> str:
    """The worktree holding *path*, or *path* itself (watch remove: it may be gone)."""
    try:
        return gitrepo.find_repo(path).toplevel
    except UserError:
        return os.path.realpath(path)


def _to_watch(path: str) -> str:
    """The worktree `watch add` was given, or one line saying what it takes."""
    shown = output.display(os.fsencode(os.path.abspath(path)))
    if not os.path.isdir(path):
        why = "no such directory"
    else:
        try:
            return gitrepo.find_repo(path).toplevel
        except UserError:
            why = "it is not in a git worktree"
    raise UserError(
        f"cannot watch {shown}: {why}; give it a git worktree: git snapshot watch add PATH"
    )


def cmd_watch(
    *,
    cwd: str,
    action: str | None,
    path: str | None,
    json_out: bool = False,
    install_service: bool = False,
    foreground: bool = False,
) -> int:
    if install_service:
        return _install_service(cwd)
    store = store_path()
    if foreground:
        from git_snapshot.watch import daemon

        return daemon.main(store)
    if action in ("add", "remove") and not path:  # usage errors: exit status 2
        output.err(f"watch {action} needs a PATH: git snapshot watch {action} PATH")
        return 2
    if action not in ("add", "remove") and path:
        output.err(
            f"watch {action or ''} takes no PATH (did you mean: git snapshot watch add {path}?)"
        )
        return 2
    if action == "status":
        return _status(store, json_out)
    if action == "stop":
        pid = instance.stop(store)
        print("the watcher was not running" if pid is None else _stopped(pid))
        return 0
    if action == "add":
        assert path is not None
        top = _to_watch(os.path.join(cwd, path))
        registry.put(store, top, on=True, by="watch add")
        print(f"watching {output.display(os.fsencode(top))}")
        return _start(store, quiet=True)
    if action == "remove":
        assert path is not None
        top = _toplevel(os.path.join(cwd, path))
        if not registry.known(store, top):
            raise UserError(f"{top} is not watched (see: git snapshot watch status)")
        if top not in registry.active(store):  # removed before: kept off, said so (RED32)
            raise UserError(f"{top} is not watched: it was removed before (watch add PATH adds it)")
        registry.put(store, top, on=False, by="watch remove")
        print(
            f"no longer watching {output.display(os.fsencode(top))} (hooks will not add it "
            "again; watch add PATH will)"
        )
        return 0
    # bare `watch`: this worktree (if in one), and the daemon
    here: str | None
    try:
        here = gitrepo.find_repo(cwd).toplevel
    except UserError:
        here = None
    if here is not None:
        registry.put(store, here, on=True, by="watch add")
    return _start(store, quiet=False)


def _start(store: str, quiet: bool) -> int:
    pid = instance.serving(store)  # (None too for one of an older git-snapshot: replaced)
    if pid is None:
        instance.said_cannot_run(store, None)  # (what the daemon says now counts)
        instance.start(store)
        got = instance.await_start(store, START_WAIT_S)
        if isinstance(got, str):  # it cannot run: no inotify instance left (RED39 E3)
            raise UserError(got)
        if got is None:
            log = os.path.join(instance.state_dir(store), instance.LOG)
            raise UserError(f"the watcher did not start; see {log}")
        pid = got
        if not quiet:
            print(f"started the watcher (pid {pid})")
    elif not quiet:
        print(f"the watcher runs (pid {pid})")
    if not quiet:
        n = len(registry.active(store))
        print(f"watching {n} worktree{'s' if n != 1 else ''}; see: git snapshot watch status")
    return 0


# --------------------------------------------------------------------------- status


def status_data(store: str) -> dict[str, Any]:
    """What ``watch status --json`` prints."""
    code = instance.daemon_code(store)
    pid = None if code is None else code[0]
    data: dict[str, Any] = {"running": pid is not None, "pid": pid}
    if code is not None and pid is not None and pid > 0:
        data["older"] = instance.older(code[1].encode())  # (RED38 C1)
    raw: dict[str, Any] = {}
    if pid is not None:
        try:
            with open(
                os.path.join(instance.state_dir(store), instance.STATUS), encoding="utf-8"
            ) as f:
                raw = json.load(f)
        except (OSError, ValueError):
            raw = {}
    if raw and raw.get("pid") == pid:
        now = time.time()
        data.update(raw)
        data["running"] = True
        data["uptime_s"] = round(now - float(raw["started"]), 1)
        data["started"] = output.iso(float(raw["started"]))
        data["updated"] = output.iso(float(raw["updated"]))
        stored = _watch_snapshots(store, [w["path"] for w in data["worktrees"]])
        for w in data["worktrees"]:
            since = w.get("changed_since")
            w["changed_since"] = output.iso(since) if since else None
            last = _newest(stored.get(w["path"]), w.get("last_snapshot"))
            w["last_snapshot"] = last
            w["last_error"] = _current_error(w, last)
            if last and last.get("created"):
                last["age_s"] = round(now - float(last["created"]), 1)
                last["created"] = output.iso(float(last["created"]))
    watched = {w["path"] for w in data.get("worktrees", [])}
    data.setdefault("worktrees", [])
    missing = set(data.get("missing") or ())
    for e in registry.entries(store):
        if e.path not in watched:
            state = "not watched" if e.on else "removed"
            item: dict[str, Any] = {"path": e.path, "state": state, "by": e.by}
            if e.on and not os.path.lexists(e.path):
                item["state"] = "folder gone" + (
                    " (watched again if it comes back)" if e.path in missing else ""
                )
                item.update(_gone(store, e.path))
            data["worktrees"].append(item)
    return data


def _gone(store: str, path: str) -> dict[str, Any]:
    """For a registered worktree whose folder is gone (an rm -rf of the whole clone, which no
    other worktree can report): the newest snapshot taken there, and the command that writes
    its files back where they were (the snapshot never holds .git: committed history that
    was not pushed is not in it)."""
    from git_snapshot.commands.common import qualified
    from git_snapshot.store import Store

    try:
        with Store(store) as s:
            snaps = s.snapshots(worktree=path)
            if not snaps:
                return {"restore": None}
            snap = max(snaps, key=lambda x: (x.created, x.id))
            label = qualified(s, [snap])[snap.source]
            several = len({x.source for x in snaps}) > 1  # the path was reused
    except (UserError, OSError, sqlite3.Error):
        return {}
    repo = output.shell_quote(os.fsencode(label if several else path))
    return {
        "snapshot": {"id": snap.id, "repo": label, "created": output.iso(snap.created)},
        "restore": f"git snapshot restore --repo {repo} {snap.id} --to "
        f"{output.shell_quote(os.fsencode(path))}",
        "age_s": round(time.time() - snap.created, 1),
        "files": snap.files,
    }


def _watch_snapshots(store: str, paths: list[str]) -> dict[str, Any]:
    """The newest watch snapshot the store holds of each of *paths* that has one (the store
    opened once); none when it cannot be read (`list` and `verify` say why)."""
    if not paths:
        return {}
    from git_snapshot.store import Store

    found = {}
    try:
        with Store(store) as s:
            for path in paths:
                snaps = [x for x in s.snapshots(worktree=path) if x.trigger == "watch"]
                if snaps:
                    found[path] = max(snaps, key=lambda x: x.created)
    except (UserError, OSError, sqlite3.Error):
        return {}
    return found


def _newest(newest: Any, last: dict[str, Any] | None) -> dict[str, Any] | None:
    """The daemon's last snapshot of a worktree, or *newest*, a newer watch snapshot the store
    holds: the daemon writes its status at most once a second, after its worker has answered,
    and `watch status` must not lag `list` (the lag is then unknown: None)."""
    if newest is None or (last and float(last.get("created") or 0) >= newest.created):
        return last
    return {"id": newest.id, "created": newest.created, "new": True, "seconds": None, "lag_s": None}


def _current_error(w: dict[str, Any], last: dict[str, Any] | None) -> str | None:
    """The daemon's last snapshot error for worktree *w*, unless a watch snapshot created
    after it (*last*: the store may hold one the status does not know yet) says it is
    over: "last error: ... disk is full" beside a snapshot taken once space was freed read
    as if protection still failed (RED34 A1)."""
    error, at = w.get("last_error"), w.get("last_error_at")
    if error and at and last and float(last.get("created") or 0) > float(at):
        return None
    return str(error) if error else None


def _ago(seconds: float) -> str:
    s = int(seconds)
    if s < 90:
        return f"{s}s"
    if s < 5400:
        return f"{s // 60}m"
    return f"{s // 3600}h {s % 3600 // 60}m"


def _status(store: str, json_out: bool) -> int:
    data = status_data(store)
    if json_out:
        output.print_json(data)
        return 0
    if not data["running"]:
        why = instance.cannot_run(store)
        print(f"watcher: not running: {why}" if why else _NOT_RUNNING)
    elif "watches" not in data:
        print(f"watcher: running (pid {data['pid']}), starting up")
    else:
        print(
            f"watcher: running (pid {data['pid']}, up {_ago(data['uptime_s'])}); "
            f"{data['watches']:,} of {data['budget']:,} inotify watches "
            f"(max_user_watches {data['max_user_watches']:,}); "
            f"{data['polling_dirs']:,} folders polled; "
            f"events dropped: {data['overflows']} queue overflows, "
            f"{data['failed_watches']} failed watches"
        )
    if data["running"] and data.get("failed_watches") and data.get("polling_dirs"):
        print(output.one_line(_watch_limit(data)))
    if data["running"] and data.get("problem"):
        print(output.one_line(f"watcher: {data['problem']}"))
    if data["running"] and data.get("older"):  # (its errors say "upgrade": done already)
        print(
            "watcher: it runs an older git-snapshot, started before the upgrade: the next "
            "hook or snapshot replaces it, or now: git snapshot watch"
        )
    for w in data["worktrees"]:
        print(output.one_line(_worktree_line(w)))  # paths, labels: one line, no escape
    return 0


_NOT_RUNNING = "watcher: not running; start it with: git snapshot watch"


def _watch_limit(data: dict[str, Any]) -> str:
    """The line for watches the kernel refused: its limit is reached (RED39 E4)."""
    limit = data.get("max_user_watches") or 0
    return (
        f"watcher: the kernel's inotify watch limit ({limit:,}, shared with the user's other "
        f"programs) is reached: {_folders(data['polling_dirs'])} polled, and hooks walk those "
        "worktrees whole; raise it with: sudo sysctl fs.inotify.max_user_watches="
        f"{max(2 * limit, 524288)} (or close the program that holds them)"
    )


def _folders(n: int) -> str:
    return f"{n:,} folder" + ("" if n == 1 else "s")


def _worktree_line(w: dict[str, Any]) -> str:
    if "watches" not in w:
        if w.get("restore"):
            return (
                f"  {w['path']}: {w['state']}; its newest snapshot, {w['snapshot']['repo']}:"
                f"{w['snapshot']['id']} ({_ago(w['age_s'])} ago, {w['files']:,} files, no .git),"
                f" brings its files back: {w['restore']}"
            )
        if w.get("restore", 0) is None:
            return f"  {w['path']}: {w['state']}; no snapshot of it in the store"
        return f"  {w['path']}: {w['state']}"
    parts = [f"{w['state']}, {w['watches']:,} watches"]
    if w["polling_dirs"]:
        parts.append(f"{w['polling_dirs']:,} folders polled")
    for b in w.get("whole_trees", []):
        rel = os.path.relpath(b["path"], w["path"])
        parts.append(f"{rel}/: watched whole, {_folders(b['dirs'])}")
    for b in w["big_trees"]:
        rel = os.path.relpath(b["path"], w["path"])
        parts.append(
            f"{rel}/: one watch, {_folders(b['dirs'])} scanned"
            if b["scanned"]
            else f"{rel}/: one watch (CACHEDIR.TAG)"
        )
    for b in w.get("blind", []):
        rel = os.path.relpath(b["path"], w["path"])
        parts.append(
            f"{rel}/: on {b['fs']}, whose changes made elsewhere raise no event: walked by "
            "every snapshot, as without the watcher"
        )
    last = w.get("last_snapshot")
    if last:
        lag = last.get("lag_s")
        parts.append(
            f"last snapshot {last['id']} {_ago(last.get('age_s', 0))} ago"
            + (f", {lag:.1f}s after the last change" if lag is not None else "")
        )
    else:
        parts.append("no snapshot yet")
    if w.get("changed_since"):
        parts.append(f"changes pending since {w['changed_since']}")
    if w["overflows"] or w["failed_watches"]:
        parts.append(f"{w['overflows']} overflows, {w['failed_watches']} failed watches")
    if w.get("last_error"):
        parts.append(f"last error: {w['last_error']}")
    return f"  {w['path']}: " + "; ".join(parts)


# --------------------------------------------------------------------------- systemd


def unit_text(exe: str, store: str | None) -> str:
    """The user unit; the executable and the store quoted as systemd unquotes them (a space
    would split either: a store "/home/me/my store" became "/home/me/my")."""
    env = f"Environment={_quoted(f'{location.ENV_STORE}={store}')}\n" if store else ""
    exe = _quoted(exe)  # ("$" is literal in the command's path: systemd-analyze verify)
    return (
        "[Unit]\n"
        "Description=git-snapshot watcher: snapshots of your worktrees a few seconds after "
        "changes settle\n"
        "Documentation=man:git-snapshot(1)\n"
        "\n"
        "[Service]\n"
        "Type=simple\n"
        f"ExecStart={exe} watch --foreground\n"
        f"{env}"
        "Restart=on-failure\n"
        "RestartSec=60\n"
        "Nice=10\n"
        "IOSchedulingClass=idle\n"
        "\n"
        "[Install]\n"
        "WantedBy=default.target\n"
    )


def _quoted(text: str) -> str:
    """*text* as one double-quoted word of a unit file (systemd.syntax(7) "Quoting"), with
    "%" doubled (specifiers are expanded in ExecStart= and Environment=)."""
    out = []
    for b in os.fsencode(text):
        ch = chr(b)
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch == "%":
            out.append("%%")
        elif 32 <= b < 127:
            out.append(ch)
        else:  # a control character, or a byte of a name that is not ASCII
            out.append(f"\\x{b:02x}")
    return '"' + "".join(out) + '"'


def _install_service(cwd: str) -> int:
    from git_snapshot.install import current_exe

    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    unit_dir = os.path.join(config, "systemd", "user")
    os.makedirs(unit_dir, exist_ok=True)
    path = os.path.join(unit_dir, SERVICE_NAME)
    with open(path, "w", encoding="utf-8") as f:
        f.write(unit_text(current_exe(), os.environ.get(location.ENV_STORE)))
    print(f"wrote {output.display(os.fsencode(path))}")
    # one way to start it at login, the one that works here (RED40 D9: both were printed);
    # the login line is README's
    if sys.platform != "linux" or not _has_systemd():
        print(
            "no systemd here: start the watcher from your login instead, e.g. add "
            "'git-snapshot watch >/dev/null 2>&1' to ~/.profile"
        )
    else:
        print(
            "enable it (it then starts at every login) with: systemctl --user daemon-reload && "
            f"systemctl --user enable --now {SERVICE_NAME.removesuffix('.service')}"
        )
    print(_who_starts_it(cwd))
    return 0


def _stopped(pid: int) -> str:
    """The line of `watch stop`: a stop lasts until the next hook, which starts the watcher
    again unless GIT_SNAPSHOT_WATCH turns that off (RED40 D5: it came back silently)."""
    if instance.autostart_disabled():
        return f"stopped the watcher (pid {pid}); {_hooks_off()}"
    return (
        f"stopped the watcher (pid {pid}); the next git command with a hook starts it again "
        f"(export {instance.ENV_AUTOSTART}=0 keeps it off; git config snapshot.watch false "
        "keeps a repository unwatched)"
    )


def _hooks_off() -> str:
    return (
        f"hooks do not start it while {instance.ENV_AUTOSTART}="
        f"{os.environ.get(instance.ENV_AUTOSTART)} is set"
    )


def _who_starts_it(cwd: str) -> str:
    """Whether a hook starts the watcher too, and whether it watches the worktree at *cwd*
    (a hook starts it unless GIT_SNAPSHOT_WATCH turns that off; snapshot.watch false keeps
    a worktree unwatched however it was started)."""
    from git_snapshot.watch import config as wconfig

    if instance.autostart_disabled():
        said = _hooks_off()
    else:
        said = "any git command with a hook also starts it when it is not running"
    if not wconfig.enabled(cwd):
        said += (
            "; but git config snapshot.watch is false here: it watches no worktree where git "
            "reads it false (git config --show-origin snapshot.watch says which file sets it)"
        )
    return said


def _has_systemd() -> bool:
    return os.path.isdir("/run/systemd/system")
