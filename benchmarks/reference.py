"""The reference: how fast this machine multiplies large fp32 matrices, right now.

A square ``n x n`` product costs ``2 n^3`` floating-point operations. TensorFlow's
``tf.matmul`` (oneDNN) is the reference every model figure is divided by; numpy's (OpenBLAS)
and TensorFlow's bfloat16 product are printed beside it for orientation. Each section of the
benchmark re-measures the TF fp32 rate just before it runs, so a ratio compares two figures
taken seconds apart.
"""

from __future__ import annotations

import numpy as np

from benchmarks.core import Results, Row, time_calls


class MatmulReference:
    """Measures the TF fp32 matmul rate (GFLOP/s) on demand; remembers every measurement."""

    def __init__(self, size: int = 2048, repeats: int = 5):
        import tensorflow as tf

        self.size = size
        self.repeats = repeats
        rng = np.random.default_rng(0)
        self._a = tf.constant(rng.standard_normal((size, size), dtype=np.float32))
        self._b = tf.constant(rng.standard_normal((size, size), dtype=np.float32))
        self._product = tf.function(lambda a, b: tf.reduce_sum(tf.matmul(a, b)))
        self.history: list[float] = []

    @property
    def flops(self) -> float:
        return 2.0 * self.size**3

    def measure(self) -> float:
        """The current fp32 matmul rate in GFLOP/s (median of ``repeats`` products)."""
        timing = time_calls(lambda: self._product(self._a, self._b).numpy(), self.repeats, warmup=1)
        rate = self.flops / timing.median / 1e9
        self.history.append(rate)
        return rate

    def label(self, rate: float) -> str:
        return f"matmul fp32 {rate:,.0f} GFLOP/s"


def run(results: Results, ref: MatmulReference, args) -> None:
    import tensorflow as tf

    n = ref.size
    rate = ref.measure()
    results.add(
        Row(
            "reference",
            f"TF matmul fp32 {n}x{n}",
            rate,
            "GFLOP/s",
            note="the reference for every model figure (re-measured per section)",
        )
    )
    rng = np.random.default_rng(1)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    timing = time_calls(lambda: a @ b, ref.repeats, warmup=1)
    np_rate = ref.flops / timing.median / 1e9
    results.add(
        Row(
            "reference",
            f"numpy matmul fp32 {n}x{n}",
            np_rate,
            "GFLOP/s",
            ref.label(rate),
            np_rate / rate,
            "x TF",
            note="OpenBLAS",
        )
    )
    ab = tf.cast(ref._a, tf.bfloat16)
    bb = tf.cast(ref._b, tf.bfloat16)
    timing = time_calls(lambda: ref._product(ab, bb).numpy(), ref.repeats, warmup=1)
    bf_rate = ref.flops / timing.median / 1e9
    results.add(
        Row(
            "reference",
            f"TF matmul bf16 {n}x{n}",
            bf_rate,
            "GFLOP/s",
            ref.label(rate),
            bf_rate / rate,
            "x fp32",
            note="AVX512_BF16: the ceiling for mixed precision",
        )
    )
