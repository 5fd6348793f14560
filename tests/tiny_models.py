"""Helpers (not tests): small models saved the way training saves them, and galleries.

Training a model that reliably tells people apart takes minutes, so tests that need a
decision to separate people use :func:`exact_match_model`: the ``tiny`` network with its head
set by hand so that only the same photo as an enrolled one scores above 0.5. That makes
Verified / Unverified deterministic while the whole pipeline (face search, alignment,
preprocessing, int8 embedding on LiteRT, cached gallery, head, decision) runs for real.
Tests that need a model that really knows faces use the shipped one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

OWNER = "Colin_Powell"
OTHER = "Jennifer_Capriati"


def enrol(folder: Path, paths: list[Path]) -> list[Path]:
    """Copy photos into ``folder`` as verification images (unchanged bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        written.append(Path(shutil.copy(path, folder / path.name)))
    return written


def export_tiny(path: Path, model=None, crop: str = "aligned", auc: float | None = None) -> Path:
    """Save a tiny Siamese model (untrained unless ``model`` is given) with its int8 copy
    and metadata, exactly as the trainers do (training.export); return the .keras path.
    ``auc``: the validation quality its metadata records (None: nothing measured, so it
    never runs in place of the shipped model unless asked for)."""
    import keras

    from faceapp.keras.networks import make_siamese_model
    from training.export import export, model_metadata

    if model is None:
        keras.utils.set_random_seed(0)
        model = make_siamese_model("tiny")
    export(
        model,
        path,
        model_metadata(
            architecture="tiny",
            crop=crop,
            detection_threshold=0.5,
            threshold_rule="test",
            settings={},
            data={},
            metrics={} if auc is None else {"validation": {"roc_auc": auc}},
            training_seconds=0.0,
            epochs=0,
        ),
    )
    return path


# The untrained tiny network (seed 0) puts the same photo, aligned from a detection or from
# tracking, within an L1 distance of 0.05-0.10 of itself, and the fixture's different people
# 0.27 or more apart (median 0.40): a head that crosses 0.5 at 0.17 accepts only the photo.
SAME_PHOTO_DISTANCE = 0.17
HEAD_SLOPE = 10.0


def exact_match_model(path: Path, crop: str = "aligned") -> Path:
    """Tiny model whose head scores the same photo about 0.7 and any other face about 0.3
    or less: ``sigmoid(10 * (0.17 - L1))``. On the fixture it separates the same photo from
    any other perfectly, so its metadata records an AUC of 1 and it runs where it is the
    newest trained model."""
    import keras

    from faceapp.keras.networks import make_siamese_model

    keras.utils.set_random_seed(0)
    model = make_siamese_model("tiny")
    head = model.get_layer("classifier")
    kernel, bias = head.get_weights()
    head.set_weights(
        [np.full_like(kernel, -HEAD_SLOPE), np.full_like(bias, HEAD_SLOPE * SAME_PHOTO_DISTANCE)]
    )
    return export_tiny(path, model, crop, auc=1.0)


def claim_quality(model: Path, auc: float = 1.0) -> Path:
    """Metadata beside a (possibly broken) model file claiming it measured ``auc``, so the
    app tries to run it as the newest trained model (and must report what goes wrong)."""
    import json

    meta = model.with_name(model.name.split(".")[0] + ".json")
    meta.write_text(json.dumps({"metrics": {"validation": {"roc_auc": auc}}}))
    return meta
