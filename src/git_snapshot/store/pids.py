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


PR_SET_PDEATHSIG = 1  # linux/prctl.h
_SIGKILL = 9  # (the signal module's enum import costs ~5 ms: not for this)


def die_with_parent(parent: int) -> None:
    """Have the kernel SIGKILL this process when its parent *parent* (the pid it had when
    it started this one) ends, killed or not, so that no child of ours outlives it holding
    the store's lock or writing (Linux; elsewhere nothing). Ends now when it already has.
    Through _ctypes (under 1 ms), not ctypes (~10 ms of imports, in every child)."""
    try:
        import _ctypes

        class CInt(_ctypes._SimpleCData):  # type: ignore[type-arg]
            _type_ = "i"

        class CFunc(_ctypes.CFuncPtr):
            _flags_ = _ctypes.FUNCFLAG_CDECL
            _restype_ = CInt

        prctl = CFunc(_ctypes.dlsym(_ctypes.dlopen(None), "prctl"))  # type: ignore[arg-type]
        prctl(PR_SET_PDEATHSIG, _SIGKILL, 0, 0, 0)
    except (ImportError, AttributeError, OSError, TypeError, ValueError):
        return  # not Linux (no prctl): as before, the child ends when its work does
    if os.getppid() != parent:  # it ended before the kernel was told
        os._exit(1)


def ignore_stops() -> None:
    """Ignore Ctrl-C, SIGTERM and SIGHUP in a helper process that its parent stops (a
    restore's writer: the terminal sends Ctrl-C to the whole group): the parent takes them
    and ends the helper its own way; one dying on its own first made the parent's message
    a writer's error instead of the interrupt's (RED32 C3). SIGKILL of the parent still
    ends it (die_with_parent)."""
    import signal

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
