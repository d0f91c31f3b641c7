"""DatasetError, ChecksumError, ChecksumWarning -- the exceptions the data loaders raise.

Every error names the file concerned and says what is wrong with it, so that a
user sees one readable line instead of a bare traceback from ``pickle``,
``scipy.io`` or ``tarfile``.
"""

__all__ = ["DatasetError", "ChecksumError", "ChecksumWarning"]


class DatasetError(ValueError):
    """DatasetError(message) -- a data file is missing, unreadable or malformed.

    The message always names the file and the problem.
    """


class ChecksumError(DatasetError):
    """ChecksumError(message) -- a file's MD5 differs from the official one (``verify="strict"``)."""


class ChecksumWarning(UserWarning):
    """ChecksumWarning(message) -- a file's MD5 differs from the official one (``verify="warn"``)."""
