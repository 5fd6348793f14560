"""Many views of each training face, each with the teacher's embedding of that very view.

Distillation learns most when the student sees the variety a camera gives and the teacher
says, for each variant, where it belongs. So every training photo is aligned once
(:mod:`faceapp.vision.align`, at dlib's 150x150 chip framing, which is what dlib's network expects)
and turned into ``views`` pictures: view 0 as it is, the others randomly mirrored, turned,
scaled, shifted, lit, coloured, blurred, made noisy or JPEG-compressed
(:func:`augmented`). The dlib network embeds every view once; the student later trains on
the view shrunk to its own input size, against the teacher's vector of the same view.

The work (dlib once per view; its time: docs/accuracy.md) is done once and kept under the
data root in chunks of :data:`CHUNK` photos (``cache/teacher-views-<tree>-v<views>-s<seed>/``,
keyed by photo), so a killed run resumes with the next unfinished chunk. Training-time only:
needs dlib (``requirements-teacher.txt``).
"""

from __future__ import annotations

import multiprocessing
import sys
import time
import zlib
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from faceapp.errors import FaceappError
from faceapp.paths import DataRoot
from faceapp.vision.imaging import INPUT_SIZE

CHUNK = 256  # photos per cache file
VERSION = 1  # bump when augmented() or the chip changes: caches are then remade

_WORKER = None  # per process: (FaceFinder, dlib recogniser)


def augmented(chip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random variant of an aligned BGR chip, as different cameras, light and a slightly
    different pose would give it. Same size as ``chip``; uint8."""
    size = chip.shape[0]
    image = chip[:, ::-1] if rng.random() < 0.5 else chip
    angle = rng.uniform(-10, 10)
    scale = rng.uniform(0.9, 1.1)
    shift = rng.uniform(-0.04, 0.04, 2) * size
    matrix = cv2.getRotationMatrix2D((size / 2, size / 2), angle, scale)
    matrix[:, 2] += shift
    image = cv2.warpAffine(
        np.ascontiguousarray(image),
        matrix,
        (size, size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    pixels = image.astype(np.float32) / 255.0
    if rng.random() < 0.15:  # grey
        pixels = np.repeat(pixels.mean(axis=2, keepdims=True), 3, axis=2)
    else:  # saturation
        grey = pixels.mean(axis=2, keepdims=True)
        pixels = grey + (pixels - grey) * rng.uniform(0.6, 1.4)
        pixels = pixels * rng.uniform(0.9, 1.1, 3)  # white balance
    pixels = (pixels - 0.5) * rng.uniform(0.7, 1.3) + 0.5 + rng.uniform(-0.15, 0.15)
    pixels = np.clip(pixels, 0, 1) ** rng.uniform(0.7, 1.4)  # gamma
    if rng.random() < 0.2:
        pixels = pixels + rng.normal(0, rng.uniform(0.01, 0.04), pixels.shape)
    image = np.clip(pixels * 255 + 0.5, 0, 255).astype(np.uint8)
    if rng.random() < 0.25:  # a low-resolution camera: down and up again
        low = int(size * rng.uniform(0.3, 0.7))
        image = cv2.resize(
            cv2.resize(image, (low, low), interpolation=cv2.INTER_AREA),
            (size, size),
            interpolation=cv2.INTER_LINEAR,
        )
    elif rng.random() < 0.2:  # out of focus
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.6, 1.6))
    if rng.random() < 0.3:
        ok, data = cv2.imencode(
            ".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 90))]
        )
        image = cv2.imdecode(data, cv2.IMREAD_COLOR)  # type: ignore[assignment]
    return image


def _worker():
    global _WORKER
    if _WORKER is None:
        from faceapp.vision.finder import FaceFinder
        from training.identity.teacher import require_dlib

        dlib, models = require_dlib()
        _WORKER = (
            FaceFinder(),
            dlib.face_recognition_model_v1(models.face_recognition_model_location()),
        )
    return _WORKER


def photo_views(path: str, views: int, seed: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(pictures (views, 100, 100, 3) uint8 RGB, teacher vectors (views, 128) unit
    float32)`` of one photo, or None when it is unreadable or has no landmarks."""
    from faceapp.vision.align import CHIP_SIZE, align
    from faceapp.vision.imaging import read_image

    finder, recogniser = _worker()
    try:
        image = read_image(path)
    except FaceappError:
        return None
    face = finder.find(image)
    if face is None or face.landmarks is None:
        return None
    chip = align(image, face.landmarks.xy, CHIP_SIZE)
    rng = np.random.default_rng([seed, zlib.crc32(Path(path).name.encode())])
    chips = [chip] + [augmented(chip, rng) for _ in range(views - 1)]
    rgb = [np.ascontiguousarray(c[:, :, ::-1]) for c in chips]
    vectors = np.asarray(recogniser.compute_face_descriptor(rgb), np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
    small = np.stack(
        [cv2.resize(c, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA) for c in rgb]
    )
    return small, vectors


def cache_folder(root: DataRoot, tree: Path, views: int, seed: int) -> Path:
    return root.root / "cache" / f"teacher-views-{tree.resolve().name}-v{views}-s{seed}-r{VERSION}"


def view_table(
    paths: Sequence[Path],
    folder: Path,
    views: int,
    seed: int,
    workers: int = 2,
    verbose: bool = True,
) -> tuple[list[Path], np.ndarray, np.ndarray]:
    """``(paths kept, pictures (N, views, 100, 100, 3) uint8 RGB, teacher vectors
    (N, views, 128))`` for ``paths`` (in sorted order); photos without landmarks are left out.

    Every chunk file in ``folder`` is read (keyed by photo path, so any set of photos can
    share the cache); the photos missing from all of them are computed and saved in new
    chunks, one at a time.
    """
    paths = sorted({Path(p).resolve() for p in paths})
    stored, failed = _read_chunks(folder)
    missing = [p for p in paths if str(p) not in stored and str(p) not in failed]
    if missing:
        if verbose:
            print(
                f"teacher views: {len(missing)} photos x {views} views to embed with dlib "
                f"({workers} processes; {len(stored)} cached)",
                flush=True,
            )
        _compute(missing, folder, views, seed, workers, verbose)
        stored, failed = _read_chunks(folder)
    kept = [p for p in paths if str(p) in stored]
    if not kept:
        raise FaceappError("no photo had landmarks for the teacher's views")
    return (
        kept,
        np.stack([stored[str(p)][0] for p in kept]),
        np.stack([stored[str(p)][1] for p in kept]),
    )


def _read_chunks(folder: Path) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], set[str]]:
    stored, failed = {}, set()
    for chunk in sorted(folder.glob("chunk-*.npz")) if folder.is_dir() else []:
        with np.load(chunk) as data:
            for key, pictures, vectors in zip(
                data["keys"].tolist(), data["pictures"], data["vectors"]
            ):
                stored[key] = (pictures, vectors)
            failed.update(data["failed"].tolist())
    return stored, failed


def _compute(
    paths: list[Path], folder: Path, views: int, seed: int, workers: int, verbose: bool
) -> None:
    from training.identity.classifier import save_npz

    existing = (
        [int(p.stem.split("-")[1]) for p in folder.glob("chunk-*.npz")] if folder.is_dir() else []
    )
    number = max(existing, default=-1) + 1
    started = time.monotonic()
    context = multiprocessing.get_context("spawn")  # the caller may run TF's threads
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for start in range(0, len(paths), CHUNK):
            chunk = paths[start : start + CHUNK]
            results = list(
                pool.map(
                    photo_views,
                    [str(p) for p in chunk],
                    [views] * len(chunk),
                    [seed] * len(chunk),
                    chunksize=4,
                )
            )
            good = [(str(p), r) for p, r in zip(chunk, results) if r is not None]
            empty = np.zeros((0, views, INPUT_SIZE, INPUT_SIZE, 3), np.uint8)
            save_npz(
                folder / f"chunk-{number:04d}.npz",
                keys=np.array([g[0] for g in good], dtype=str),
                pictures=np.stack([g[1][0] for g in good]) if good else empty,
                vectors=(
                    np.stack([g[1][1] for g in good])
                    if good
                    else np.zeros((0, views, 128), np.float32)
                ),
                failed=np.array([str(p) for p, r in zip(chunk, results) if r is None], dtype=str),
            )
            number += 1
            if verbose:
                done = start + len(chunk)
                rate = done / (time.monotonic() - started)
                print(
                    f"teacher views: {done}/{len(paths)} photos ({rate:.2f} photos/s)", flush=True
                )


if __name__ == "__main__":  # a quick look: python -m training.identity.views PHOTO
    out = photo_views(sys.argv[1], 8, 0)
    if out is not None:
        cv2.imwrite("views.png", np.concatenate(list(out[0][:, :, :, ::-1]), axis=1))
