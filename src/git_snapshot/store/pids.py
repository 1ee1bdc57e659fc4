"""Whether a process still runs: the one answer for every module that finds a pid in a file
name or a state file (the archiving core cannot import proc, which knows git)."""

from __future__ import annotations

import os

PID_MAX = 1 << 22  # Linux's highest pid_max (pid_max_limit); a pid beyond it never ran


def alive(pid: object) -> bool:
    """Whether process *pid* exists. Anything but a pid a process can have (not an int, 0,
    which kill(2) takes for the process group, negative, too big) is no process."""
    if type(pid) is not int or not 0 < pid <= PID_MAX:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's
        return True
    except OSError:
        return False
    return True
