"""Scoring many pairs fast: embed each distinct image once, then apply the head in NumPy.

``score(a, b) = sigmoid(|e(a) - e(b)| @ kernel + bias)``, exactly what the Siamese model
computes, so N images cost N embeddings however many pairs they appear in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from faceapp.model import siamese_parts
from training.data import load_table


def embed(embedding, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Embeddings of float images (N, 100, 100, 3), calling the network batch by batch.

    A direct call rather than ``predict``: it also works on a model built under a
    multi-worker strategy, on one worker alone (the chief, after training).
    """
    out = [np.asarray(embedding(images[k:k + batch_size], training=False))
           for k in range(0, len(images), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, embedding.output_shape[-1]), np.float32)


class EmbeddingScorer:
    """Scores pairs of images whose embeddings are already computed (``index``: path -> row
    of ``embeddings``), with the Siamese head ``(kernel, bias)``."""

    def __init__(self, embeddings: np.ndarray, index: dict, kernel: np.ndarray, bias: np.ndarray):
        self.embeddings, self.index, self.kernel, self.bias = embeddings, index, kernel, bias

    def has(self, path: Path) -> bool:
        return path in self.index

    def scores(self, firsts: Sequence[Path], seconds: Sequence[Path]) -> np.ndarray:
        """P(same) for each ``(firsts[k], seconds[k])``; every path must be loaded."""
        a = self.embeddings[[self.index[p] for p in firsts]]
        b = self.embeddings[[self.index[p] for p in seconds]]
        logits = np.abs(a - b) @ self.kernel + self.bias
        # sigmoid as exp(-log(1 + e^-x)): no overflow warning on stderr for confident logits
        return np.exp(-np.logaddexp(0.0, -logits)).reshape(-1)

    def against(self, probe: Path, gallery: Sequence[Path]) -> np.ndarray:
        """Scores of one probe image against each gallery image."""
        return self.scores([probe] * len(gallery), gallery)


class PairScorer(EmbeddingScorer):
    """Embeddings of a set of images under one model, and the head to compare them."""

    def __init__(self, model, paths: Iterable[Path], crop: str = "none", batch_size: int = 64,
                 runtime: str = "keras"):
        """``runtime="int8"`` embeds with the app's int8 copy (:mod:`faceapp.runtime`), to
        measure exactly what the app decides."""
        embedding, kernel, bias = siamese_parts(model)
        table = load_table(paths, crop=crop)
        self.skipped = table.skipped
        images = table.images.astype(np.float32) / np.float32(255.0)
        if runtime == "int8":
            from faceapp.runtime import LiteRunner, int8_flatbuffer

            embeddings = LiteRunner(int8_flatbuffer(embedding))(images)
        else:
            embeddings = embed(embedding, images, batch_size)
        super().__init__(embeddings, table.index, kernel, bias)
