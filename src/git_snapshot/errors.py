"""The one user-facing error type."""

from __future__ import annotations


class UserError(Exception):
    """An expected failure. Its message is one line: what went wrong and what to do next.

    The command line prints it as ``git-snapshot: <message>`` and exits 1; hooks print it the
    same way. Anything else that escapes is a bug.
    """
