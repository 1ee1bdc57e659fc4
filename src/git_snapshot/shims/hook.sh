#!/bin/sh
# installed by git-snapshot: a hook shim; git runs it under a hook's name.
# For reference-transaction, pre-rebase, pre-merge-commit, post-checkout, post-merge, post-rewrite
# (post-commit: after a cherry-pick or a revert; after any commit if snapshot.postCommit) it runs
# `git-snapshot hook NAME ARGS...`; then, for every name, the hook that was there before, if any: NAME.git-snapshot-chained next to this file
# or, when this file lives in git-snapshot's own hooks directory, NAME in the directory git used
# before ($forward). `git snapshot uninstall` puts every hook back. GIT_SNAPSHOT_SKIP=1: no
# snapshot (the chained hook still runs). If git-snapshot is gone or cannot start, this shim prints
# how to remove it and lets git go on. The next line is the only one `git snapshot install` fills in.
exe=git-snapshot forward= py= tag= lib=
case $0 in */*) dir=${0%/*} ;; *) dir=. ;; esac
name=${0##*/}
name=${name%.legacy} # pre-commit's hook runs what it replaced as NAME.legacy
# outer=1: $forward is the global (else the system) core.hooksPath install found; what it is now
# (one git process; the reference-transaction hook, hundreds of calls in a rebase, spawns none
# and keeps install's value: `git snapshot doctor` says when to run install again).
if [ -n "${outer-}" ] && [ "$name" != reference-transaction ]; then
	forward=$(git config --global --path --get core.hooksPath 2>/dev/null ||
		git config --system --path --get core.hooksPath 2>/dev/null) || forward=
fi
if [ -n "$forward" ]; then
	chained=$forward/$name
elif [ -n "${outer-}" ]; then
	chained= # no global core.hooksPath any more
else
	chained=$dir/$name.git-snapshot-chained
fi

have_exe() {
	case $exe in
	*/*) [ -f "$exe" ] && [ -x "$exe" ] ;;
	*) command -v "$exe" >/dev/null 2>&1 ;;
	esac
}

have_chained() { [ -f "$chained" ] && [ -x "$chained" ]; }

# Only the chained hook (no snapshot here): git sees its status.
chain_only() {
	if have_chained; then exec "$chained" "$@"; fi
	exit 0
}

# One line: the program is gone (a deleted virtualenv) or cannot start (its Python is gone, as
# after an upgrade); the exact commands that remove us. $1: what is wrong, $2: the way back.
gone() {
	case $0 in /*) self=$0 ;; *) self=$PWD/$0 ;; esac # said to a user in any directory
	if [ -n "${outer-}" ]; then # (git runs hooks at the worktree's root)
		undo="git -C '$PWD' config --unset core.hooksPath && rm -r '${self%/*}'"
	elif [ -n "$forward" ]; then
		undo="git -C '$PWD' config core.hooksPath '$forward' && rm -r '${self%/*}'"
	elif have_chained; then
		undo="mv '${self%/*}/${chained##*/}' '$self'"
	else
		undo="rm '$self'"
	fi
	printf '%s\n' "git-snapshot: $exe ${1:-is gone}, so the $name hook took no snapshot; ${2-}to remove this hook: $undo" >&2
}

# Whether $exe names a #! interpreter that is not there (only read: no process). Sets $interp.
no_interpreter() {
	case $exe in */*) ;; *) return 1 ;; esac
	IFS= read -r interp <"$exe" 2>/dev/null || return 1
	case $interp in '#!'*) ;; *) return 1 ;; esac
	interp=${interp#??}
	interp=${interp#"${interp%%[! 	]*}"}
	interp=${interp%%[ 	]*}
	[ -n "$interp" ] && [ ! -x "$interp" ]
}

# A program that does not start never blocks git: the hook goes on as if it were gone.
cannot_start() {
	gone "cannot start ($1)" "reinstall git-snapshot and run git snapshot install again, or "
}

# $py, $tag and $lib (written by install): the Python that runs $exe, its bytecode tag and
# where git-snapshot and its libraries live. Python starts without `site` (the environment's
# .pth files: 4.7 M instructions, ~3 ms of every hook), nothing from the current directory on
# its path; with any doubt (another Python at $py, a folder gone, an import that fails) it
# runs $exe instead, with the same arguments and stdin: through $exe's own Python (its #!
# line) as the console script does, except that git_snapshot not importable there (a venv
# whose Python was upgraded under it) exits 127, "cannot start", not a traceback that aborts
# the git command (RED31 E1).
fast='import sys
if sys.path and sys.path[0] == "":
    del sys.path[0]
import os
tag, lib, exe = sys.argv[1:4]
args = sys.argv[4:]
paths = lib.split(":")
if sys.implementation.cache_tag == tag and all(map(os.path.isdir, paths)):
    sys.path.extend(p for p in paths if p not in sys.path)
    try:
        from git_snapshot.hookmain import main
    except ImportError:
        main = None
    if main is not None:
        sys.argv = [exe] + args
        sys.exit(main())
run = [exe] + args
try:
    with open(exe, "rb") as f:
        first = f.readline(4096).split()
except OSError:
    first = []
if len(first) == 1 and first[0][:2] == b"#!" and b"python" in os.path.basename(first[0]):
    start = "import sys\ntry:\n    from git_snapshot.hookmain import main\nexcept ImportError:\n    sys.exit(127)\nsys.argv = sys.argv[1:]\nsys.exit(main())"
    run = [os.fsdecode(first[0][2:]), "-c", start, exe] + args
try:
    os.execv(run[0], run)
except OSError:
    sys.exit(127)'

# The snapshot: its status (0 when skipped, or when the program is gone or cannot start: 126
# and 127 are the shell's, never the hook's).
snap() {
	[ "${GIT_SNAPSHOT_SKIP-}" = 1 ] && return 0
	if ! have_exe; then
		gone
		return 0
	fi
	if [ -n "$py" ] && [ -f "$py" ] && [ -x "$py" ]; then
		"$py" -S -c "$fast" "$tag" "$lib" "$exe" hook "$name" "$@"
	elif no_interpreter; then
		cannot_start "its Python $interp is gone"
		return 0
	else
		"$exe" hook "$name" "$@"
	fi
	rc=$?
	case $rc in 126 | 127) ;; *) return "$rc" ;; esac
	if no_interpreter; then cannot_start "its Python $interp is gone"; else cannot_start "exit status $rc"; fi
}

# Sets $gd: the git directory, read (no process) from GIT_DIR or the worktree root's .git (a
# folder, or a file "gitdir: PATH" in a linked worktree or a submodule); empty if neither.
git_dir() {
	gd=${GIT_DIR-}
	if [ -z "$gd" ]; then
		if [ -d .git ]; then
			gd=.git
		elif [ -f .git ]; then
			IFS= read -r gd <.git || :
			gd=${gd#gitdir: }
		fi
	fi
}

case $name in
pre-rebase | pre-merge-commit)
	# A pre-hook: a failed snapshot or a failed chained hook aborts the git command.
	status=0
	snap "$@" || status=$?
	if have_chained; then
		"$chained" "$@" || { rc=$?; [ "$status" -ne 0 ] || status=$rc; }
	fi
	exit "$status"
	;;
post-checkout | post-merge)
	# A post-hook: the snapshot never fails the git command; the status is the chained hook's.
	snap "$@" || :
	chain_only "$@"
	;;
post-commit)
	# A cherry-pick or a revert writes over an ignored file the commit brings in, as a merge
	# does (red44 F5). git sets nothing in a post-commit that tells it from a commit, but the
	# last line of HEAD's reflog names it: "cherry-pick: ", "revert: ", "commit (cherry-pick):
	# " (a commit that ends a stopped pick). One `tail`: an ordinary commit starts no other
	# process, unless snapshot.postCommit was true when install wrote pc=1 on the line above
	# (the shipped hooks/ copies, exe=git-snapshot, ask too). hooks.picked is the same test.
	last=
	git_dir
	if [ -n "$gd" ] && [ -s "$gd/logs/HEAD" ]; then last=$(tail -n 1 "$gd/logs/HEAD" 2>/dev/null); fi
	case $last in
	*"	cherry-pick: "* | *"	revert: "* | *"	commit (cherry-pick): "*) snap "$@" || : ;;
	*)
		case ${pc-}:$exe in
		1:* | *:git-snapshot)
			[ "$(git config --type=bool snapshot.postCommit 2>/dev/null)" != true ] || snap "$@" || :
			;;
		esac
		;;
	esac
	chain_only "$@"
	;;
post-rewrite)
	# stdin: "<old> <new>" lines, which both read.
	if [ "${GIT_SNAPSHOT_SKIP-}" = 1 ] || ! have_exe; then
		[ "${GIT_SNAPSHOT_SKIP-}" = 1 ] || gone
		chain_only "$@"
	fi
	have_chained || { snap "$@" || :; exit 0; }
	input=$(cat; echo .) # the "." keeps a trailing newline
	input=${input%.}
	printf '%s' "$input" | snap "$@" || :
	printf '%s' "$input" | "$chained" "$@"
	exit $?
	;;
reference-transaction) ;;
*) chain_only "$@" ;;
esac

# Whether a `git am` is starting (GIT_REFLOG_ACTION unset): its state folder holds `applying`
# (a rebase's has `rebasing`) and no `patch` yet (an am stopped mid-way has one; a `git reset`
# then moves ORIG_HEAD too, after the worktree). hooks.am_starting is the same test.
am_starting() {
	git_dir
	[ -n "$gd" ] && [ -f "$gd/rebase-apply/applying" ] && [ ! -e "$gd/rebase-apply/patch" ]
}

# reference-transaction. Fast path, no subprocess at all: only the ORIG_HEAD update that
# `git merge`, `git pull` and `git am` make before they touch the worktree is snapshotted. A
# 50-commit rebase calls this hook about 500 times.
[ "$1" = prepared ] && [ "${GIT_SNAPSHOT_SKIP-}" != 1 ] || chain_only "$@"
case ${GIT_REFLOG_ACTION-} in
merge* | pull*) ;;
'') am_starting || chain_only "$@" ;;
*) chain_only "$@" ;;
esac
# stdin: "<old> <new> <ref>" lines.
found=
if have_chained; then
	input=$(cat; echo .)
	input=${input%.}
	case $input in
	*" ORIG_HEAD
"* | *" ORIG_HEAD") found=1 ;;
	esac
else
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in *" ORIG_HEAD") found=1; break ;; esac
	done
fi
status=0
if [ -n "$found" ]; then snap "$@" </dev/null || status=$?; fi
if have_chained; then
	printf '%s' "$input" | "$chained" "$@" || { rc=$?; [ "$status" -ne 0 ] || status=$rc; }
fi
exit "$status"
