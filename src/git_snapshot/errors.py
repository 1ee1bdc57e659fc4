"""The one user-facing error type."""

from __future__ import annotations


class UserError(Exception):
    """An expected failure. Its message is one line: what went wrong and what to do next.

    The command line prints it as ``git-snapshot: <message>`` and exits 1; hooks print it the
    same way. Anything else that escapes is a bug.
    """


class UsageError(UserError):
    """A command line written wrong: a value that is no ID, date or duration in any form.

    The command line prints it as a :class:`UserError` and exits 2 (DESIGN: "2 on a usage
    error"), as argparse does for a malformed option; a well-formed value that names nothing
    (``show 99``) stays a UserError.
    """


class NotYourStore(UserError):
    """The snapshot store, or a part of it, belongs to another user (store/location.py).

    A hook says it in one line and takes no snapshot, but never stops the git command: the
    store cannot be used by this process whatever it does (a `sudo git ...` keeping HOME).
    """
