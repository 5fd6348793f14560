"""The enrolled faces' embeddings under one model, computed once and kept on disk.

Verifying a face compares it with every verification image, so their embeddings are kept:
in memory while the folder does not change (names, sizes and times), and on disk between
runs in ``cache/gallery/<model>.npz`` under the data root, so a one-shot ``faceapp.verify``
embeds one face, not fifty. An entry is used only for the same model (the digest of what
runs: int8 network, head and crop) and the same image (the SHA-256 of its bytes); a stale,
foreign or damaged cache is recomputed, never trusted, with no more than a debug line. The
file is written atomically and privately (0600) like every other.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np

from faceapp.errors import FaceappError
from faceapp.models.runtime import RunnableModel
from faceapp.vision.imaging import decode_image, list_images, summarize_skipped

log = logging.getLogger(__name__)
EMBED_BATCH = 32


class Gallery:
    """The embeddings of the images in ``folder`` under ``model``."""

    def __init__(
        self, folder: Path, model: RunnableModel, cache_dir: Path | None = None, on_warning=None
    ):
        """``on_warning(line)`` is called when newly found images are unreadable."""
        self.folder = Path(folder)
        self.model = model
        self.cache_file = (
            Path(cache_dir) / f"{model.identity[:24]}.npz" if cache_dir is not None else None
        )
        self.on_warning = on_warning
        self.warning: str | None = None  # the last "skipped unreadable images" line
        self.embedded = 0  # images embedded by this object (for tests)
        self.names: list[str] = []
        self.notes: dict[str, str] = {}  # name -> how its face was cut, when not well
        self._vectors = np.zeros((0, model.head.dimensions), np.float32)
        self._signature: tuple | None = None
        self._known: dict[tuple[str, str], np.ndarray] = {}  # (name, sha256) -> vector
        self._unreadable: dict[tuple[str, str], str] = {}  # (name, sha256) -> why

    def vectors(self) -> np.ndarray:
        """The embeddings (N, D) of the readable images, in :attr:`names` order."""
        signature = self._folder_signature()
        if signature == self._signature:
            return self._vectors
        if self._signature is None:
            self._known = self._read_cache()
        contents = self._contents([name for name, _, _ in signature])
        new = [
            (key, data)
            for key, data in contents
            if key not in self._known and key not in self._unreadable
        ]
        for start in range(0, len(new), EMBED_BATCH):
            self._embed(new[start : start + EMBED_BATCH])
        keys = [key for key, _ in contents]
        changed = bool(new) or set(self._known) - set(keys)
        self._known = {key: self._known[key] for key in keys if key in self._known}
        if changed:
            self._write_cache()
        unreadable: list[tuple[object, str]] = [
            (self.folder / name, why)
            for (name, sha), why in self._unreadable.items()
            if (name, sha) in keys
        ]
        self.warning = summarize_skipped(unreadable, "verification images")
        if self.warning and new and self.on_warning is not None:
            self.on_warning(self.warning)
        usable = [key for key in keys if key in self._known]
        self.names = [name for name, _ in usable]
        self._vectors = (
            np.stack([self._known[key] for key in usable])
            if usable
            else np.zeros((0, self.model.head.dimensions), np.float32)
        )
        self._signature = signature
        return self._vectors

    def __len__(self) -> int:
        return len(self.vectors())

    # --- the folder -------------------------------------------------------------------------

    def _folder_signature(self) -> tuple:
        if not self.folder.is_dir():
            return ()
        entries = []
        for path in list_images(self.folder):
            try:
                stat = path.stat()
            except OSError:  # removed between listing and stat
                continue
            entries.append((path.name, stat.st_size, stat.st_mtime_ns))
        return tuple(entries)

    def _contents(self, names: list[str]) -> list[tuple[tuple[str, str], bytes | str]]:
        """``((name, sha256), bytes or why unreadable)`` of each image."""
        out: list[tuple[tuple[str, str], bytes | str]] = []
        for name in names:
            path = self.folder / name
            try:
                data = path.read_bytes()
            except OSError as error:
                out.append(((name, ""), f"cannot read {path}: {error.strerror}"))
                continue
            out.append(((name, hashlib.sha256(data).hexdigest()), data))
        return out

    def _embed(self, batch: list[tuple[tuple[str, str], bytes | str]]) -> None:

        pictures, keys = [], []
        for key, data in batch:
            if isinstance(data, str):
                self._unreadable[key] = data
                continue
            try:
                picture = self.model.picture(decode_image(data, str(self.folder / key[0])))
            except FaceappError as error:
                self._unreadable[key] = str(error)
                continue
            if picture.note:
                self.notes[key[0]] = picture.note
            pictures.append(picture)
            keys.append(key)
        vectors = self.model.embed_pictures(pictures)
        self.embedded += len(pictures)
        for key, vector in zip(keys, vectors):
            self._known[key] = vector

    # --- the disk cache ---------------------------------------------------------------------

    def _read_cache(self) -> dict[tuple[str, str], np.ndarray]:
        if self.cache_file is None or not self.cache_file.is_file():
            return {}
        try:
            with np.load(self.cache_file, allow_pickle=False) as data:
                if str(data["model"]) != self.model.identity:
                    raise ValueError("made by another model")
                vectors = np.asarray(data["vectors"], np.float32)
                names, digests = data["names"].tolist(), data["sha256"].tolist()
            if (
                vectors.shape != (len(names), self.model.head.dimensions)
                or len(digests) != len(names)
                or not np.isfinite(vectors).all()
            ):
                raise ValueError("inconsistent arrays")
        except Exception as error:  # noqa: BLE001 - any damage: recompute, never trust
            log.debug("gallery cache %s not used (%s); recomputing", self.cache_file, error)
            return {}
        return {(n, d): v for n, d, v in zip(names, digests, vectors)}

    def _write_cache(self) -> None:
        if self.cache_file is None:
            return
        from faceapp.storage import atomic_path

        keys = sorted(self._known)
        dimensions = self.model.head.dimensions
        try:
            with atomic_path(self.cache_file, overwrite=True) as temp, open(temp, "wb") as handle:
                np.savez(
                    handle,
                    model=np.array(self.model.identity),
                    names=np.array([k[0] for k in keys], dtype=str),
                    sha256=np.array([k[1] for k in keys], dtype=str),
                    vectors=(
                        np.stack([self._known[k] for k in keys])
                        if keys
                        else np.zeros((0, dimensions), np.float32)
                    ),
                )
        except (OSError, FaceappError) as error:
            log.debug("gallery cache %s not written: %s", self.cache_file, error)


class MemoryGallery:
    """Enrolled faces given as images in memory (paths, encoded bytes or BGR arrays), embedded
    once: for scripts that keep their own photos (``Verifier.open(gallery=[...])``). The same
    interface as :class:`Gallery`; nothing is written to disk."""

    def __init__(self, images, model: RunnableModel):
        from faceapp.vision.imaging import load_bgr

        images = list(images)
        if not images:
            raise FaceappError("the gallery is empty: give at least one image of the face")
        self.names = [
            str(image) if isinstance(image, str | Path) else f"image {k}"
            for k, image in enumerate(images)
        ]
        self.warning: str | None = None
        pictures = [model.picture(load_bgr(image)) for image in images]
        self.notes = {name: p.note for name, p in zip(self.names, pictures) if p.note}
        self._vectors = model.embed_pictures(pictures)

    def vectors(self) -> np.ndarray:
        return self._vectors

    def __len__(self) -> int:
        return len(self._vectors)
