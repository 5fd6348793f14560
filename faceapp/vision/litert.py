"""Running a ``.tflite`` network with the LiteRT interpreter: the one place that loads one.

The face detector, the landmark network and the embedding network all run here, with numpy
only: no TensorFlow. ``ai-edge-litert`` is LiteRT's PyPI package; importing it costs a
fraction of a second, where ``import tensorflow`` costs seconds and hundreds of megabytes.
The interpreter's XNNPACK CPU kernels announce themselves on stderr in C++; that line is
parked (:func:`faceapp.quiet.parked_stderr`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from faceapp.errors import FaceappError, one_line

THREADS_ENV_VAR = "FACEAPP_THREADS"


def default_threads() -> int:
    """``$FACEAPP_THREADS``, else TensorFlow's ``$TF_NUM_INTRAOP_THREADS``, else up to 4.

    One face is a small job: more than a few threads only add hand-over costs.
    """
    for name in (THREADS_ENV_VAR, "TF_NUM_INTRAOP_THREADS"):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return min(4, os.cpu_count() or 1)


class LiteRTError(FaceappError):
    """LiteRT is not installed, or its interpreter refuses a network."""


def interpreter_class():
    """LiteRT's ``Interpreter``; a one-line error naming the package when it is missing."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as error:
        raise LiteRTError(
            f"LiteRT is not installed ({one_line(error)}): pip install -r requirements.txt"
        ) from None
    return Interpreter


class TFLiteNetwork:
    """One ``.tflite`` network with one input; :meth:`run` returns its outputs in order.

    Not thread-safe (an interpreter holds its tensors): give each thread its own.
    """

    def __init__(self, source: Path | bytes, threads: int | None = None, name: str = ""):
        from faceapp.quiet import parked_stderr

        self.name = name or (str(source) if isinstance(source, Path) else "<flatbuffer>")
        if isinstance(source, Path):
            try:
                source = source.read_bytes()
            except OSError as error:
                raise FaceappError(
                    f"cannot read network {self.name}: {error.strerror or error}"
                ) from None
        interpreter = interpreter_class()
        try:
            with parked_stderr(replay=False):  # "INFO: Created TensorFlow Lite XNNPACK ..."
                self.interpreter = interpreter(
                    model_content=bytes(source), num_threads=threads or default_threads()
                )
                self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as error:
            raise LiteRTError(f"cannot load network {self.name}: {one_line(error)[:200]}") from None
        details = self.interpreter.get_input_details()
        if len(details) != 1:
            raise FaceappError(f"network {self.name} has {len(details)} inputs, expected one")
        self.input_index = details[0]["index"]
        self.input_shape = tuple(int(n) for n in details[0]["shape"])
        self.output_indices = [d["index"] for d in self.interpreter.get_output_details()]
        self.output_shapes = [
            tuple(int(n) for n in d["shape"]) for d in self.interpreter.get_output_details()
        ]

    def run(self, batch: np.ndarray) -> list[np.ndarray]:
        """The outputs (copies) for one input of exactly :attr:`input_shape`."""
        self.interpreter.set_tensor(self.input_index, np.ascontiguousarray(batch, dtype=np.float32))
        self.interpreter.invoke()
        return [self.interpreter.get_tensor(index).copy() for index in self.output_indices]
