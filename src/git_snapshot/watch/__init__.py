"""Continuous protection: the per-user daemon behind ``git snapshot watch``.

Events (inotify through :mod:`.source`) -> the worktree's watch set (:mod:`.watchset`) ->
the dirty set (:mod:`.dirtyset`) and a snapshot a few seconds after changes settle
(:mod:`.daemon`, whose worker process runs :mod:`.take`). :mod:`.instance` holds the
single-instance lock and starts the daemon; :mod:`.registry` lists the worktrees it watches.
Nothing here is imported by a hook except :mod:`.instance` and :mod:`.registry`, which use the
standard library only.
"""
