"""Every photo of an identity tree embedded once by a runnable model, cached on disk.

Calibrating and measuring the rule needs tens of thousands of comparisons between a few
thousand photos: each photo is embedded once, as the app embeds a face (its search, its
alignment at the model's input size, the int8 copy on LiteRT), and the vectors are kept in
``<data root>/cache/embeddings-<model>-<tree>.npz``, so a second run costs nothing and a
killed run starts again from the last chunk saved.

When a photo holds several faces, the one nearest its centre is taken (LFW's photos are
centred on the person they are filed under); a photo with no face found keeps the central
box, as the app would, and is flagged.
"""

from __future__ import annotations

import hashlib
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceapp.paths import DataRoot
from faceapp.vision.finder import Face, FaceFinder
from faceapp.vision.imaging import read_image

CHUNK = 500  # photos between two saves of the cache


@dataclass(frozen=True)
class TreeEmbeddings:
    """Vectors of a tree's photos: ``vectors[index[path]]``; ``found[k]``: a face was found."""

    paths: list[Path]
    vectors: np.ndarray
    found: np.ndarray
    index: dict[Path, int]

    def of(self, paths: list[Path]) -> np.ndarray:
        return self.vectors[[self.index[p] for p in paths]]


def central_face(faces: list[Face], shape: tuple[int, ...]) -> Face | None:
    """The face whose box centre is nearest the image's centre."""
    height, width = shape[:2]

    def off_centre(face: Face) -> float:
        box = face.box
        return float(
            np.hypot(box.x + box.width / 2 - width / 2, box.y + box.height / 2 - height / 2)
        )

    return min(faces, key=off_centre, default=None)


def cache_file(root: DataRoot, model, tree: Path) -> Path:
    """Keyed by what makes the vectors (the network, the crop, the input size; not the
    head), and by the tree's place."""
    network = model.metadata.int8_sha256 or model.identity
    made = f"{network}:{model.crop}:{model.input_size}:{model.metadata.unit_length}".encode()
    name = hashlib.sha256(made + str(tree.resolve()).encode()).hexdigest()[:16]
    return root.root / "cache" / f"embeddings-{tree.name}-{name}.npz"


def embed_tree(model, paths: list[Path], tree: Path, root: DataRoot, log=print) -> TreeEmbeddings:
    """The vectors of ``paths`` (photos under ``tree``) under ``model``, from the cache
    where they are there, computed (and saved every :data:`CHUNK` photos) where not."""
    from faceapp.storage import atomic_path

    cache = cache_file(root, model, tree)
    known: dict[str, tuple[np.ndarray, bool]] = {}
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as data:
            for name, vector, found in zip(data["names"], data["vectors"], data["found"]):
                known[str(name)] = (vector, bool(found))

    def key(path: Path) -> str:
        return str(path.relative_to(tree))

    missing = [p for p in paths if key(p) not in known]
    finder, started = FaceFinder(), time.monotonic()
    for start in range(0, len(missing), CHUNK):
        pictures, found = [], []
        for path in missing[start : start + CHUNK]:
            image = read_image(path)
            face = central_face(finder.find_all(image), image.shape)
            pictures.append(model.picture(image, face, searched=True))
            found.append(face is not None)
        vectors = model.embed_pictures(pictures)
        for path, vector, ok in zip(missing[start : start + CHUNK], vectors, found):
            known[key(path)] = (vector, ok)
        names = sorted(known)
        with atomic_path(cache, overwrite=True) as temp, open(temp, "wb") as handle:
            np.savez(
                handle,
                names=np.array(names),
                vectors=np.stack([known[n][0] for n in names]),
                found=np.array([known[n][1] for n in names]),
            )
        done = min(start + CHUNK, len(missing))
        log(f"embedded {done}/{len(missing)} photos ({time.monotonic() - started:.0f} s)")
        sys.stdout.flush()
    return TreeEmbeddings(
        list(paths),
        np.stack([known[key(p)][0] for p in paths]).astype(np.float32),
        np.array([known[key(p)][1] for p in paths]),
        {p: k for k, p in enumerate(paths)},
    )
