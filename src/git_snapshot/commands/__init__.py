"""One module per command, each with a ``cmd_<name>(*, typed keyword arguments) -> exit code``.

Nothing is imported here: ``cli`` imports only the module of the command it runs, so that a
hook run pays for the hook's imports alone.
"""
