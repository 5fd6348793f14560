"""Parking C++ chatter on stderr: the lines LiteRT, TensorFlow and absl print from C++ that
Python's logging settings do not reach."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator


@contextlib.contextmanager
def parked_stderr(replay: bool = True) -> Iterator[None]:
    """Send file descriptor 2 to a temporary file for the block; on failure replay what was
    parked (unless ``replay`` is False: the caller reports the error itself).

    For C++ log lines that ``TF_CPP_MIN_LOG_LEVEL`` does not reach (absl start-up lines,
    TFLite's "Created TensorFlow Lite XNNPACK delegate"). Python errors still propagate.
    Without a usable stderr (closed by a launcher) the block just runs.
    """
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with tempfile.TemporaryFile() as parked:
            os.dup2(parked.fileno(), 2)
            try:
                yield
            except BaseException:
                os.dup2(saved, 2)
                if replay:
                    parked.seek(0)
                    sys.stderr.write(parked.read().decode(errors="replace"))
                raise
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)
