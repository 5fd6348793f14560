"""From a Keras model to what the app runs: the int8 embedding and the head's numbers.

This is the only run-time module that imports TensorFlow, and only when a model has no int8
copy yet (a model trained before the copies were written beside it) or when the float32
Keras model is asked for (``--runtime keras``). Training writes the int8 copy when it saves
a model (training.export), so the app normally never comes here.

The int8 copy: the embedding network converted to a TFLite flatbuffer with *dynamic-range
quantisation* (weights stored as int8, activations quantised on the fly), run by XNNPACK.
For the Koch network most of one face's time is reading the 4096-unit Dense layer's 37.7M
weights; int8 reads a quarter of that bytes. Measured figures: docs/benchmarks.md.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from faceapp.models.head import Head
from faceapp.vision.imaging import INPUT_SHAPE

EmbedFn = Callable[[np.ndarray], np.ndarray]


def keras_embedder(embedding) -> EmbedFn:
    """The quickest float32 way to run ``embedding`` on small batches with this backend.

    On TensorFlow a ``tf.function`` with a fixed signature is traced once and avoids
    ``predict``'s per-call overhead (about 4x faster for one face; XLA measured no faster).
    Other backends call the model directly.
    """
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        @tf.function(
            input_signature=[tf.TensorSpec((None, *INPUT_SHAPE), tf.float32)], reduce_retracing=True
        )
        def run(batch):
            return embedding(batch, training=False)

        return lambda batch: run(batch).numpy()
    return lambda batch: np.asarray(embedding(batch, training=False))


def tflite_flatbuffer(embedding, quantize: bool) -> bytes:
    """``embedding`` as a TFLite flatbuffer: float32, or with ``quantize`` dynamic-range
    int8 weights."""
    import tensorflow as tf

    from faceapp.quiet import parked_stderr

    with (
        tempfile.TemporaryDirectory(prefix="faceapp-tflite-") as folder,
        parked_stderr(replay=False),
    ):  # a failure is reported in one line by the caller
        saved = str(Path(folder) / "saved_model")
        embedding.export(saved, format="tf_saved_model", verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved)
        if quantize:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        return converter.convert()


def int8_flatbuffer(embedding) -> bytes:
    """``embedding`` as the int8 runtime's flatbuffer."""
    return tflite_flatbuffer(embedding, quantize=True)


def runtime_parts(model) -> tuple[bytes, Head]:
    """``(int8 flatbuffer of the embedding, head)`` of a loaded Siamese Keras model."""
    from faceapp.keras.networks import siamese_parts

    embedding, kernel, bias = siamese_parts(model)
    return int8_flatbuffer(embedding), Head(kernel, bias)


def convert_file(keras_path: Path) -> tuple[bytes, Head]:
    """The int8 flatbuffer and head of the Siamese model saved at ``keras_path``."""
    from faceapp.keras.networks import load_model

    return runtime_parts(load_model(keras_path))
