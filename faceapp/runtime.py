"""How the embedding network runs at verification time: an int8 LiteRT copy, or Keras.

``int8`` (the default): the embedding converted once to a TFLite flatbuffer with
*dynamic-range quantisation* (weights stored as int8, activations quantised on the fly)
and run by the XNNPACK CPU kernels. For the Koch network most of one face's time is
reading the 4096-unit Dense layer's 37.7M weights (151 MB in float32); int8 reads a quarter
of that. Measured on this 2-core machine: 4.6 ms per face against 16.5 ms for the float32
``tf.function`` (``python -m benchmarks``), and on held-out LFW pairs with trained models
all but 1-3 of 1,200 pair decisions the same (docs/benchmarks.md). The flatbuffer is
cached under the data root (``cache/runtime/<model hash>-tf<version>-v<n>.int8.tflite``)
so only the first start with a model converts; TensorFlow's threads setting
(``TF_NUM_INTRAOP_THREADS``) also sets XNNPACK's.

``keras``: a ``tf.function`` around the Keras model (float32), the reference.

When the int8 copy cannot be made (no TensorFlow Lite in this TensorFlow, a Keras
backend other than TensorFlow), :func:`embedding_runner` falls back to ``keras`` and says so.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from faceapp.errors import FaceappError

RUNTIMES = ("int8", "keras")
CONVERSION_VERSION = 1  # bump when int8_flatbuffer changes: cached copies are then remade
DEFAULT_RUNTIME = "int8"
INPUT_SIGNATURE = (None, 100, 100, 3)

EmbedFn = Callable[[np.ndarray], np.ndarray]


def keras_runner(embedding) -> EmbedFn:
    """The quickest float32 way to run ``embedding`` on small batches with this backend.

    On TensorFlow a ``tf.function`` with a fixed signature is traced once and avoids
    ``predict``'s per-call overhead (measured 18 ms vs 75 ms per face for the Koch net on
    2 cores; XLA measured no faster). Other backends call the model directly.
    """
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        @tf.function(input_signature=[tf.TensorSpec(INPUT_SIGNATURE, tf.float32)],
                     reduce_retracing=True)
        def run(batch):
            return embedding(batch, training=False)

        return lambda batch: run(batch).numpy()
    return lambda batch: np.asarray(embedding(batch, training=False))


def tflite_flatbuffer(embedding, quantize: bool) -> bytes:
    """``embedding`` as a TFLite flatbuffer (needs TensorFlow): float32, or with
    ``quantize`` dynamic-range int8 weights."""
    import tensorflow as tf

    from faceapp.tfquiet import parked_stderr

    with tempfile.TemporaryDirectory(prefix="faceapp-tflite-") as folder, \
            parked_stderr(replay=False):  # a failure is reported in one line by the caller
        saved = str(Path(folder) / "saved_model")
        embedding.export(saved, format="tf_saved_model", verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved)
        if quantize:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        return converter.convert()


def int8_flatbuffer(embedding) -> bytes:
    """``embedding`` as a dynamic-range-quantised TFLite flatbuffer: the int8 runtime's."""
    return tflite_flatbuffer(embedding, quantize=True)


def interpreter_class():
    """``(Interpreter class, its package)``: LiteRT's when installed, else ``tf.lite``'s."""
    try:  # LiteRT, the interpreter's new home, when installed
        from ai_edge_litert.interpreter import Interpreter
        return Interpreter, "ai_edge_litert"
    except ImportError:
        import tensorflow as tf

        warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
        return tf.lite.Interpreter, "tf.lite.Interpreter"


class LiteRunner:
    """Runs a TFLite flatbuffer one face at a time (XNNPACK), any batch size in and out."""

    def __init__(self, flatbuffer: bytes, threads: int | None = None):
        threads = (threads or int(os.environ.get("TF_NUM_INTRAOP_THREADS") or 0)
                   or min(4, os.cpu_count() or 1))
        from faceapp.tfquiet import parked_stderr

        with parked_stderr():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
            self.interpreter = interpreter_class()[0](model_content=flatbuffer,
                                                      num_threads=threads)
            self.interpreter.allocate_tensors()
        self._input = self.interpreter.get_input_details()[0]["index"]
        self._output = self.interpreter.get_output_details()[0]["index"]

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        out = []
        for face in batch:  # batch 1 is the case that matters; no re-allocation per call
            self.interpreter.set_tensor(self._input, face[None])
            self.interpreter.invoke()
            out.append(self.interpreter.get_tensor(self._output)[0].copy())
        if not out:
            return np.zeros((0,) + tuple(self.interpreter.get_output_details()[0]["shape"][1:]),
                            np.float32)
        return np.stack(out)


def file_digest(path: Path) -> str:
    """First 16 hex digits of the file's SHA-256 (names the cached conversion)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def cache_file(cache_dir: Path, digest: str) -> Path:
    """Where the int8 copy of the model file with ``digest`` is cached. The converter's
    TensorFlow version and this recipe's version are part of the name, so an upgrade
    converts again instead of reusing an old flatbuffer."""
    import tensorflow as tf

    return Path(cache_dir) / f"{digest}-tf{tf.__version__}-v{CONVERSION_VERSION}.int8.tflite"


def _store(target: Path, flatbuffer: bytes) -> None:
    from faceapp.storage import write_bytes_atomic

    try:
        write_bytes_atomic(target, flatbuffer)  # private folders and file, no clobbering
    except (FaceappError, OSError):
        pass  # cached meanwhile by another process, or unwritable: costs a conversion


def cached_int8(embedding, target: Path | None) -> bytes:
    """The int8 flatbuffer of ``embedding``: read from ``target`` (a :func:`cache_file`)
    when it is there, else converted and stored there (no cache when ``target`` is None)."""
    if target is not None and target.is_file():
        return target.read_bytes()
    flatbuffer = int8_flatbuffer(embedding)
    if target is not None:
        _store(target, flatbuffer)
    return flatbuffer


def _int8_runner(embedding, digest: str | None, cache_dir: Path | None) -> LiteRunner:
    target = cache_file(cache_dir, digest) if digest and cache_dir is not None else None
    try:
        return LiteRunner(cached_int8(embedding, target))
    except Exception:
        if target is None or not target.is_file():
            raise
        target.unlink(missing_ok=True)  # a damaged cached copy: convert once more
        return LiteRunner(cached_int8(embedding, target))


def embedding_runner(embedding, runtime: str = DEFAULT_RUNTIME, digest: str | None = None,
                     cache_dir: Path | None = None) -> tuple[EmbedFn, str, str | None]:
    """``(embed function, runtime used, why it fell back or None)`` for ``runtime``.

    ``digest`` (:func:`file_digest` of the model file, taken before loading it) and
    ``cache_dir`` turn on the cache of the int8 conversion.
    """
    if runtime not in RUNTIMES:
        raise FaceappError(f"unknown runtime {runtime!r} (choose from {', '.join(RUNTIMES)})")
    if runtime == "int8":
        import keras

        if keras.backend.backend() != "tensorflow":
            return keras_runner(embedding), "keras", "int8 needs the TensorFlow backend"
        try:
            return _int8_runner(embedding, digest, cache_dir), "int8", None
        except Exception as error:  # noqa: BLE001 - the float32 path always works
            reason = " ".join(f"int8 conversion failed: {error}".split())[:200]
            return keras_runner(embedding), "keras", reason
    return keras_runner(embedding), "keras", None


def prepare_for_app(model, model_path: Path, cache_dir: Path) -> str | None:
    """After training: convert a just-saved Siamese model's embedding to int8 now, into the
    cache the app reads, so the app's first start with it does not wait for the conversion.
    Returns why it could not (None when done); never raises."""
    try:
        from faceapp.model import siamese_parts

        target = cache_file(Path(cache_dir), file_digest(Path(model_path)))
        cached_int8(siamese_parts(model)[0], target)
    except Exception as error:  # noqa: BLE001 - the app converts on first use instead
        return " ".join(str(error).split())[:200] or type(error).__name__
    return None
