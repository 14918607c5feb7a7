"""Errors that are the user's to fix: the CLI prints them as one line, no traceback."""


class UserError(Exception):
    """A mistake in input (a path, a flag, a file's content) with a message that says what to do."""


class ControlError(UserError):
    """A control message refused: its address and the reason, kept apart, because the
    ``/mrtd/error <address> <reason>`` reply carries them as two strings. As text (the
    command line, logs) it reads ``address: reason``."""

    def __init__(self, address: str, reason: str):
        super().__init__(f"{address}: {reason}")
        self.address = address
        self.reason = reason


def reason_for(e: Exception, address: str) -> str:
    """What an ``/mrtd/error`` reply about ``address`` says for ``e``: a ControlError's
    reason when it is about that address, else the whole text."""
    if isinstance(e, ControlError) and e.address == address:
        return e.reason
    return str(e)
