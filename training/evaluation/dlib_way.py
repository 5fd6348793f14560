"""face_recognition's way, the reference every figure is measured beside: dlib's own pipeline
(its HOG detector, its 5-point landmarks, its aligned chip, its network) and face_recognition's
rule (``compare_faces``: the same person when the Euclidean distance is at most 0.6; a vote
over the enrolled faces, as faceapp's old rule did).

Each photo of a tree is embedded once, in worker processes, and kept in
``<data root>/cache/dlib-way-<tree>.npz`` (raw descriptors, as face_recognition returns them).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from faceapp.paths import DataRoot
from training.evaluation.embeddings import TreeEmbeddings

TOLERANCE = 0.6  # face_recognition.compare_faces's default


def cache_file(root: DataRoot, tree: Path) -> Path:
    name = hashlib.sha256(str(tree.resolve()).encode()).hexdigest()[:8]
    return root.root / "cache" / f"dlib-way-{tree.name}-{name}.npz"


def embed_tree_dlib(
    paths: list[Path], tree: Path, root: DataRoot, workers: int = 1, log=print
) -> TreeEmbeddings:
    """dlib's raw descriptors of ``paths``, from the cache where they are there."""
    from faceapp.storage import atomic_path
    from training.identity.teacher import teacher_embedding

    cache = cache_file(root, tree)
    known: dict[str, tuple[np.ndarray, bool]] = {}
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as data:
            for name, vector, found in zip(data["names"], data["vectors"], data["found"]):
                known[str(name)] = (vector, bool(found))

    def key(path: Path) -> str:
        return str(path.relative_to(tree))

    def save() -> None:
        names = sorted(known)
        with atomic_path(cache, overwrite=True) as temp, open(temp, "wb") as handle:
            np.savez(
                handle,
                names=np.array(names),
                vectors=np.stack([known[n][0] for n in names]),
                found=np.array([known[n][1] for n in names]),
            )

    missing = [p for p in paths if key(p) not in known]
    started = time.monotonic()
    if missing:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = pool.map(teacher_embedding, [str(p) for p in missing], chunksize=8)
            for done, (path, result) in enumerate(zip(missing, results), start=1):
                vector, found = result if result is not None else (np.zeros(128), False)
                known[key(path)] = (np.asarray(vector, np.float32), found)
                if done % 500 == 0 or done == len(missing):
                    save()
                    log(f"dlib: {done}/{len(missing)} photos ({time.monotonic() - started:.0f} s)")
    return TreeEmbeddings(
        list(paths),
        np.stack([known[key(p)][0] for p in paths]).astype(np.float32),
        np.array([known[key(p)][1] for p in paths]),
        {p: k for k, p in enumerate(paths)},
    )
