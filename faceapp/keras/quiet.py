"""Importing Keras/TensorFlow without their C++ start-up chatter on stderr."""

from __future__ import annotations

import os
import sys

from faceapp.quiet import parked_stderr


def import_keras_quietly() -> None:
    """Import Keras/TensorFlow without the C++ start-up lines TF 2.2x prints on stderr.

    Besides the import itself, the first look for devices prints lines of its own on a
    machine without a GPU ("failed call to cuInit ... (303)"), whenever that first look
    happens; it is made here, parked, so that it never happens in the middle of a command's
    output.
    """
    if "keras" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with parked_stderr():
        import keras  # noqa: F401  (imports TensorFlow)

        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.config.list_physical_devices()
