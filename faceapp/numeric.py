"""Small numeric helpers every room uses (one copy each)."""

from __future__ import annotations

import numpy as np


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """``1 / (1 + e^-x)`` written as ``exp(-log(1 + e^-x))``: no overflow warning for
    confident (large) logits."""
    return np.exp(-np.logaddexp(0.0, -np.asarray(logits, np.float64)))


def unit(vectors: np.ndarray) -> np.ndarray:
    """Vectors brought to unit length along the last axis (float32)."""
    vectors = np.asarray(vectors, np.float32)
    return vectors / (np.linalg.norm(vectors, axis=-1, keepdims=True) + np.float32(1e-12))
