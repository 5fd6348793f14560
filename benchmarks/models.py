"""The model under test, its cost in FLOPs, and the ways of running its embedding.

Runtimes ("variants") of the embedding, each a function ``batch (N,100,100,3) float32 ->
embeddings (N, D) float32``:

``predict``   ``keras.Model.predict`` (the original tutorial's way of calling the model)
``tf``        ``tf.function`` around the model call (what ``--runtime keras`` runs:
              faceapp.keras.convert.keras_embedder)
``xla``       the same with ``jit_compile=True`` (XLA)
``bf16``      a ``mixed_bfloat16`` copy of the model (bf16 matmuls/convolutions, fp32
              weights and outputs) in a ``tf.function``; uses AVX512_BF16 through oneDNN
``tflite``    the model converted to TFLite and run by the XNNPACK delegate (fp32)
``int8``      the app's default runtime (:mod:`faceapp.models.runtime`): a dynamic-range int8
              TFLite copy (int8 weights) run by XNNPACK, one face at a time
"""

from __future__ import annotations

import time

import numpy as np

VARIANTS = ("predict", "tf", "xla", "bf16", "tflite", "int8")


def model_flops(embedding) -> float:
    """Floating-point operations of one forward pass of ``embedding`` for one image.

    Counts the multiply-adds of every Conv2D and Dense layer as 2 FLOPs each (bias adds,
    activations and pooling are under 0.2% of the total and left out). For ``koch``: about
    1.87 GFLOP (conv 1: 0.32, conv 2: 1.28, conv 3: 0.15, conv 4: 0.04, dense: 0.08).
    """
    from keras import layers

    total = 0.0
    for layer in embedding.layers:
        if isinstance(layer, layers.Conv2D):
            out_h, out_w, out_c = layer.output.shape[1:]
            in_c = layer.input.shape[-1]
            kh, kw = layer.kernel_size
            total += 2.0 * out_h * out_w * out_c * kh * kw * in_c / (layer.groups or 1)
        elif isinstance(layer, layers.Dense):
            total += 2.0 * layer.input.shape[-1] * layer.units
        elif hasattr(layer, "layers"):  # a nested model
            total += model_flops(layer)
    return total


def bf16_copy(embedding, architecture: str):
    """The same embedding built under the ``mixed_bfloat16`` policy, with the same weights.

    The architecture is the registered one whose weight shapes match ``embedding``'s
    (``architecture`` is tried first), so a loaded model works too.
    """
    import keras

    from faceapp.keras.networks import ARCHITECTURES, make_embedding

    shapes = [w.shape for w in embedding.get_weights()]
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        for name in [architecture] + [a for a in ARCHITECTURES if a != architecture]:
            copy = make_embedding(name)
            if [w.shape for w in copy.get_weights()] == shapes:
                break
        else:
            raise ValueError("no registered architecture matches the model's weights")
    finally:
        keras.mixed_precision.set_global_policy(previous)
    copy.set_weights(embedding.get_weights())
    return copy


def tf_function(embedding, jit_compile: bool = False):
    import tensorflow as tf

    @tf.function(
        input_signature=[tf.TensorSpec([None, 100, 100, 3], tf.float32)],
        jit_compile=jit_compile,
        reduce_retracing=True,
    )
    def run(batch):
        return tf.cast(embedding(batch, training=False), tf.float32)

    return lambda batch: run(batch).numpy()


class TFLiteEmbedding:
    """The embedding converted to a TFLite flatbuffer, run by XNNPACK (fp32), batched."""

    def __init__(self, embedding, threads: int | None = None):
        from faceapp.keras.convert import tflite_flatbuffer
        from faceapp.vision.litert import interpreter_class

        started = time.perf_counter()
        self.flatbuffer = tflite_flatbuffer(embedding, quantize=False)
        self.convert_seconds = time.perf_counter() - started
        interpreter, self.runtime = interpreter_class(), "ai_edge_litert"
        self.interpreter = interpreter(model_content=self.flatbuffer, num_threads=threads)
        self._input = self.interpreter.get_input_details()[0]["index"]
        self._output = self.interpreter.get_output_details()[0]["index"]
        self._batch: int | None = None

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if self._batch != len(batch):
            self.interpreter.resize_tensor_input(self._input, list(batch.shape))
            self.interpreter.allocate_tensors()
            self._batch = len(batch)
        self.interpreter.set_tensor(self._input, batch)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self._output).copy()


def make_variant(name: str, embedding, architecture: str, cache: dict):
    """The embedding function of variant ``name`` (built once, kept in ``cache``)."""
    if name in cache:
        return cache[name]
    if name == "predict":
        fn = lambda batch: embedding.predict(batch, batch_size=max(1, len(batch)), verbose=0)
    elif name == "tf":
        fn = tf_function(embedding)
    elif name == "xla":
        fn = tf_function(embedding, jit_compile=True)
    elif name == "bf16":
        fn = tf_function(bf16_copy(embedding, architecture))
    elif name == "tflite":
        fn = TFLiteEmbedding(embedding)
    elif name == "int8":
        from faceapp.keras.convert import int8_flatbuffer
        from faceapp.models.runtime import Int8Embedding

        fn = Int8Embedding(int8_flatbuffer(embedding))
    else:
        raise ValueError(f"unknown variant {name!r} (known: {', '.join(VARIANTS)})")
    cache[name] = fn
    return fn
