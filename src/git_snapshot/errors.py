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


class StoreFull(UserError):
    """A snapshot could not be written: the store's disk is full (nothing was stored). A
    command that snapshots before it changes anything (restore in place) says what that
    means for it (RED40 B F4)."""


class NotYourStore(UserError):
    """The snapshot store, or a part of it, belongs to another user, and only root's
    privilege would let this process in (store/location.py: a `sudo -E git ...` keeping HOME).

    A hook says it in one line and takes no snapshot, but never stops the git command: no
    process of root's may use that store, whatever it does. (A part of the user's own store
    another user owns is a plain UserError with its chown: a pre-hook stops git until then.)
    """
