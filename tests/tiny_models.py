"""Helpers (not tests): small Siamese models and LFW folders for the inference tests.

Training a model that reliably tells people apart takes minutes, so tests that need a
decision to separate people use :func:`exact_match_model`: the ``tiny`` network with its
head set by hand so that only a face identical to an enrolled one scores above 0.5. That
makes Verified / Unverified deterministic while the whole pipeline (detection, crop,
preprocessing, embedding, cached gallery, head, decision) runs for real.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

OWNER = "Colin_Powell"
OTHER = "Tony_Blair"


def photos(lfw: Path, person: str, which: slice = slice(None)) -> list[Path]:
    return sorted((lfw / person).glob("*.jpg"))[which]


def faces(paths: list[Path]) -> list[np.ndarray]:
    """The face crops of photos, as the app and the headless command take them."""
    from faceapp.detect import face_crop
    from faceapp.imaging import read_image

    return [face_crop(read_image(p)).image for p in paths]


def enrol(folder: Path, paths: list[Path]) -> list[Path]:
    """Save the face crops of ``paths`` into ``folder`` as lossless PNG verification images."""
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for path, face in zip(paths, faces(paths)):
        written.append(folder / f"{path.stem}.png")
        cv2.imwrite(str(written[-1]), face)
    return written


def untrained_tiny_model(path: Path):
    """A freshly initialised tiny Siamese model; saved to ``path``; returns (path, model)."""
    import keras

    from faceapp.model import make_siamese_model, save_model

    keras.utils.set_random_seed(0)
    model = make_siamese_model("tiny")
    return save_model(model, path, overwrite=True), model


def exact_match_model(path: Path) -> Path:
    """Tiny model whose head gives sigmoid(1) ~ 0.73 for identical faces and ~0 otherwise."""
    import keras

    from faceapp.model import make_siamese_model, save_model

    keras.utils.set_random_seed(0)
    model = make_siamese_model("tiny")
    head = model.get_layer("classifier")
    kernel, bias = head.get_weights()
    head.set_weights([np.full_like(kernel, -1e4), np.ones_like(bias)])
    return save_model(model, path, overwrite=True)
