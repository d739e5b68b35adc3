"""The CLI's user-facing error: printed as one line naming the problem, exit status 2."""


class CliError(RuntimeError):
    """A user-facing failure: printed as one line, exit status 2."""
