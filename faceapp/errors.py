"""The error type users see, and a guard that turns it into a one-line message.

Every problem caused by input (a bad file, a missing folder, a wrong setting) is raised
as :class:`FaceappError` with a message that names the thing. Command-line entry points
wrap their ``main`` in :func:`cli_guard`, which prints ``error: <message>`` on one line
and exits with status 2 instead of showing a traceback.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from typing import TypeVar

EXIT_ERROR = 2

F = TypeVar("F", bound=Callable[..., int | None])


class FaceappError(Exception):
    """A problem with the user's input or environment, explained in one line."""


def one_line(text: object) -> str:
    """Collapse ``text`` to a single line (messages from libraries can span several)."""
    return " ".join(str(text).split())


def cli_guard(main: F) -> F:
    """Run a CLI ``main``; report a :class:`FaceappError` or Ctrl-C in one line."""

    @functools.wraps(main)
    def guarded(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except FaceappError as error:
            print(f"error: {one_line(error)}", file=sys.stderr)
            return EXIT_ERROR
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130

    return guarded  # type: ignore[return-value]


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad flag as ``error: ...`` on one line, exit status 2."""

    def error(self, message: str):
        self.exit(EXIT_ERROR, f"error: {message} (see --help)\n")
