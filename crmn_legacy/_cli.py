"""ArgumentParser and fail(prog, message) -- how every command line of crmn_legacy reports bad input.

One line on stderr, ``PROG: error: MESSAGE``, and a non-zero exit status;
never a usage dump or a traceback.  Command lines raise or catch the
package's own error types (``ValueError`` and its ``DatasetError``,
``CheckpointError``, ``OSError``) and print them with :func:`fail`; scripts
whose errors surface anywhere in their run install :func:`one_line_errors`.
``CRMN_TRACEBACK=1`` shows the full traceback instead.
"""

import argparse
import os
import sys

__all__ = ["ArgumentParser", "fail", "positive_int", "one_line_errors", "USAGE_ERROR"]

#: Exit status of bad options or files (argparse's own).
USAGE_ERROR = 2


class ArgumentParser(argparse.ArgumentParser):
    """ArgumentParser(*args, **kwargs) -- ``argparse.ArgumentParser`` whose errors are one line (``--help`` still prints everything)."""

    def error(self, message):
        """error(message) -> exits with status 2 after one line ``PROG: error: MESSAGE (see --help)``."""
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see --help)\n")


def positive_int(text):
    """positive_int(text) -> int >= 1, for an option's ``type=`` (argparse turns the error into one line)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"need a whole number >= 1, got {text!r}")
    return value


def fail(prog, message, code=USAGE_ERROR):
    """fail(prog, message, code=2) -> code, after printing ``PROG: error: MESSAGE`` to stderr as one line."""
    text = " ".join(line.strip() for line in str(message).splitlines() if line.strip()) or "failed"
    print(f"{prog}: error: {text}", file=sys.stderr)
    return code


def _expected(exc):
    """Bad input or a failing file system (said in one line), not a bug (which keeps its traceback)."""
    from .training.checkpoint import CheckpointError

    return isinstance(exc, (OSError, ValueError, CheckpointError))


def one_line_errors(prog=None):
    """one_line_errors(prog=None) -> None: make an uncaught bad-input error end the program with one line.

    Installs a ``sys.excepthook`` (for programs only, never called by the
    library) that prints :class:`ValueError`, :class:`OSError` and
    ``CheckpointError`` as ``PROG: error: MESSAGE`` (exit status 1) and leaves
    every other exception to the default hook.  ``prog`` defaults to the
    script's name.
    """
    prog = prog or os.path.basename(sys.argv[0] or "python")
    default = sys.excepthook

    def hook(exc_type, exc, tb):
        if os.environ.get("CRMN_TRACEBACK") or not _expected(exc):
            return default(exc_type, exc, tb)
        from .utils import os_error_text

        fail(prog, os_error_text(exc) if isinstance(exc, OSError) else exc)

    sys.excepthook = hook
