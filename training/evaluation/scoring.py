"""Scoring many pairs fast: embed each distinct image once, then apply the head in NumPy.

``score(a, b) = sigmoid(|e(a) - e(b)| @ kernel + bias)`` (:mod:`faceapp.models.head`), exactly what
the Siamese model computes, so N images cost N embeddings however many pairs they appear in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from faceapp.models.head import Head
from training.pairs.data import load_table


def embed(embedding, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Embeddings of float images (N, S, S, 3), calling the network batch by batch.

    A direct call rather than ``predict``: it also works on a model built under a
    multi-worker strategy, on one worker alone (the chief, after training).
    """
    out = [
        np.asarray(embedding(images[k : k + batch_size], training=False))
        for k in range(0, len(images), batch_size)
    ]
    return np.concatenate(out) if out else np.zeros((0, embedding.output_shape[-1]), np.float32)


class EmbeddingScorer:
    """Scores pairs of images whose embeddings are already computed (``index``: path -> row
    of ``embeddings``), with the Siamese ``head``."""

    def __init__(self, embeddings: np.ndarray, index: dict, head: Head):
        self.embeddings, self.index, self.head = embeddings, index, head

    def has(self, path: Path) -> bool:
        return path in self.index

    def scores(self, firsts: Sequence[Path], seconds: Sequence[Path]) -> np.ndarray:
        """P(same) for each ``(firsts[k], seconds[k])``; every path must be loaded."""
        return self.head.pair_scores(
            self.embeddings[[self.index[p] for p in firsts]],
            self.embeddings[[self.index[p] for p in seconds]],
        )

    def against(self, probe: Path, gallery: Sequence[Path]) -> np.ndarray:
        """Scores of one probe image against each gallery image."""
        return self.scores([probe] * len(gallery), gallery)


class PairScorer(EmbeddingScorer):
    """Embeddings of a set of images under a runnable model (:mod:`faceapp.models.runtime`: the int8
    copy the app runs, or the float32 Keras model), faces cut by the model's crop."""

    def __init__(self, model, paths: Iterable[Path], crop: str | None = None):
        table = load_table(paths, crop=crop or model.crop, size=model.input_size)
        self.skipped = table.skipped
        images = table.images.astype(np.float32) / np.float32(255.0)
        embeddings = (
            np.concatenate([model.embed(images[k : k + 256]) for k in range(0, len(images), 256)])
            if len(images)
            else np.zeros((0, model.head.dimensions), np.float32)
        )
        super().__init__(embeddings, table.index, model.head)
