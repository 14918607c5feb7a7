"""Errors that are the user's to fix: the CLI prints them as one line, no traceback."""


class UserError(Exception):
    """A mistake in input (a path, a flag, a file's content) with a message that says what to do."""
