"""Importing TensorFlow/Keras without its C++ start-up chatter on stderr."""

from __future__ import annotations

import os
import sys


def import_keras_quietly() -> None:
    """Import Keras/TensorFlow without the C++ start-up lines TF 2.2x prints on stderr.

    ``TF_CPP_MIN_LOG_LEVEL`` no longer silences them (absl logs before it is read), so
    stderr is parked in a temporary file during the import and replayed only on failure.
    """
    if "keras" in sys.modules:
        return
    import tempfile

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as parked:
        os.dup2(parked.fileno(), 2)
        try:
            import keras  # noqa: F401  (imports TensorFlow)
        except BaseException:
            os.dup2(saved, 2)
            parked.seek(0)
            sys.stderr.write(parked.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
