"""The Siamese head: P(same person) from two embeddings, in numpy (the one copy of it).

``score(a, b) = sigmoid(|a - b| @ kernel + bias)``: the Siamese model's ``L1Dist`` followed by
its ``Dense(1, sigmoid)``. Keeping it apart from the network means the embedding of every
verification image is computed once, and each new face costs one embedding and a small
matrix product however many images it is compared with.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faceapp.errors import FaceappError
from faceapp.numeric import sigmoid


@dataclass(frozen=True)
class Head:
    """The head's numbers: ``kernel`` (D, 1) and ``bias`` (1,), float32."""

    kernel: np.ndarray
    bias: np.ndarray

    @property
    def dimensions(self) -> int:
        return int(self.kernel.shape[0])

    def pair_scores(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """P(same) for each row pair of ``first`` and ``second`` (N, D) -> (N,) float32."""
        logits = np.abs(np.asarray(first) - np.asarray(second)) @ self.kernel + self.bias
        return sigmoid(logits.reshape(-1)).astype(np.float32)

    def scores(self, probe: np.ndarray, gallery: np.ndarray) -> np.ndarray:
        """P(same) of one probe embedding (D,) against each gallery embedding (N, D)."""
        return self.pair_scores(np.asarray(probe)[None, :], gallery)

    def to_json(self) -> dict:
        return {
            "kernel": [float(v) for v in self.kernel.reshape(-1)],
            "bias": [float(v) for v in self.bias.reshape(-1)],
        }

    @classmethod
    def from_json(cls, value: object, where: str) -> Head:
        """The head stored in metadata; a one-line error naming ``where`` when malformed."""
        try:
            kernel = np.asarray(value["kernel"], np.float32).reshape(-1, 1)  # type: ignore[index]
            bias = np.asarray(value["bias"], np.float32).reshape(1)  # type: ignore[index]
        except (TypeError, KeyError, ValueError):
            raise FaceappError(
                f'{where}: the head must be {{"kernel": [...], "bias": [b]}}'
            ) from None
        if kernel.size == 0 or not (np.isfinite(kernel).all() and np.isfinite(bias).all()):
            raise FaceappError(f"{where}: the head's numbers are empty or not finite")
        return cls(kernel, bias)
