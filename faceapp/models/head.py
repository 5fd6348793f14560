"""The Siamese head: P(same person) from two embeddings, in numpy (the one copy of it).

``score(a, b) = sigmoid(d(a, b) @ kernel + bias)``, where ``d`` compares the two embeddings
dimension by dimension: ``|a - b|`` (form ``l1``: the Siamese model's ``L1Dist`` followed by
its ``Dense(1, sigmoid)``, the networks trained here) or ``(a - b)**2`` (form ``squared``: a
weighted squared Euclidean distance, the metric dlib's network was trained for). Keeping it
apart from the network means the embedding of every enrolled face is computed once, and each
new face costs one embedding and a small matrix product however many it is compared with.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faceapp.errors import FaceappError
from faceapp.numeric import sigmoid

FORMS = ("l1", "squared")


@dataclass(frozen=True)
class Head:
    """The head's numbers: ``kernel`` (D, 1) and ``bias`` (1,), float32, and its ``form``."""

    kernel: np.ndarray
    bias: np.ndarray
    form: str = "l1"

    @property
    def dimensions(self) -> int:
        return int(self.kernel.shape[0])

    def differences(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """What the head weighs: ``|a - b|`` or ``(a - b)**2``, row by row (N, D)."""
        difference = np.asarray(first, np.float32) - np.asarray(second, np.float32)
        return np.abs(difference) if self.form == "l1" else difference * difference

    def pair_scores(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """P(same) for each row pair of ``first`` and ``second`` (N, D) -> (N,) float32."""
        logits = self.differences(first, second) @ self.kernel + self.bias
        return sigmoid(logits.reshape(-1)).astype(np.float32)

    def scores(self, probe: np.ndarray, gallery: np.ndarray) -> np.ndarray:
        """P(same) of one probe embedding (D,) against each gallery embedding (N, D)."""
        return self.pair_scores(np.asarray(probe)[None, :], gallery)

    def to_json(self) -> dict:
        return {
            "form": self.form,
            "kernel": [float(v) for v in self.kernel.reshape(-1)],
            "bias": [float(v) for v in self.bias.reshape(-1)],
        }

    @classmethod
    def from_json(cls, value: object, where: str) -> Head:
        """The head stored in metadata; a one-line error naming ``where`` when malformed."""
        try:
            kernel = np.asarray(value["kernel"], np.float32).reshape(-1, 1)  # type: ignore[index]
            bias = np.asarray(value["bias"], np.float32).reshape(1)  # type: ignore[index]
            form = value.get("form", "l1")  # type: ignore[attr-defined]
        except (TypeError, KeyError, ValueError, AttributeError):
            raise FaceappError(
                f'{where}: the head must be {{"kernel": [...], "bias": [b]}}'
            ) from None
        if form not in FORMS:
            raise FaceappError(f"{where}: unknown head form {form!r} (known: {', '.join(FORMS)})")
        if kernel.size == 0 or not (np.isfinite(kernel).all() and np.isfinite(bias).all()):
            raise FaceappError(f"{where}: the head's numbers are empty or not finite")
        return cls(kernel, bias, form)

    @classmethod
    def dlib_distance(cls, dimensions: int = 128, threshold: float = 0.6, slope: float = 30.0):
        """dlib's own rule as a head: the score is 0.5 at Euclidean distance ``threshold``
        (0.6: the same person below it) and falls with the squared distance."""
        kernel = np.full((dimensions, 1), -slope, np.float32)
        return cls(kernel, np.array([slope * threshold**2], np.float32), "squared")
