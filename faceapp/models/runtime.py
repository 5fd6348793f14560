"""How a model runs at verification time: its int8 copy on LiteRT and the head in numpy.

``int8`` (the default) needs numpy and LiteRT only: no TensorFlow, no Keras. It runs the
model's ``.int8.tflite`` copy (written beside it by training, shipped with the shipped
model) one face at a time on XNNPACK, and scores with the head's numbers from the metadata
(:mod:`faceapp.models.head`). The copy's SHA-256 is checked against the metadata's: a damaged file
is named, never run.

A Keras model trained before the copies existed is converted once (:mod:`faceapp.keras.convert`,
which imports TensorFlow) into ``cache/runtime/`` under the data root, keyed by the model
file's digest; later starts read the cached copy.

``keras``: the float32 Keras model (TensorFlow), the reference. When LiteRT is missing or
fails, a model with a Keras file falls back to it and says why in one line.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceapp.errors import FaceappError, one_line
from faceapp.models import DEFAULT_RUNTIME, RUNTIMES
from faceapp.models.files import ModelFiles
from faceapp.models.head import Head
from faceapp.models.metadata import ModelMetadata
from faceapp.numeric import unit
from faceapp.vision.crops import cut_face
from faceapp.vision.geometry import FacePicture
from faceapp.vision.imaging import INPUT_SHAPE, preprocess
from faceapp.vision.litert import LiteRTError

CONVERSION_VERSION = 2  # bump when faceapp.keras.convert changes: cached copies are then remade

EmbedFn = Callable[[np.ndarray], np.ndarray]


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Int8Embedding:
    """An int8 embedding flatbuffer on LiteRT: float faces (N, S, S, 3) -> (N, D)."""

    def __init__(
        self, flatbuffer: bytes, name: str = "<int8>", input_shape: tuple[int, ...] = INPUT_SHAPE
    ):
        from faceapp.vision.litert import TFLiteNetwork

        self.network = TFLiteNetwork(flatbuffer, name=name)
        if self.network.input_shape[1:] != tuple(input_shape):
            raise FaceappError(
                f"{name} takes {self.network.input_shape[1:]} images, not "
                f"{tuple(input_shape)} as its metadata says"
            )
        self.dimensions = int(self.network.output_shapes[0][-1])

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        out = [self.network.run(face[None])[0][0] for face in np.asarray(batch, np.float32)]
        return np.stack(out) if out else np.zeros((0, self.dimensions), np.float32)


@dataclass(frozen=True)
class RunnableModel:
    """A model ready to embed faces: the function, its head, and what exactly runs."""

    files: ModelFiles
    metadata: ModelMetadata
    head: Head
    embed: EmbedFn
    runtime: str  # the runtime that runs ("int8" or "keras")
    identity: str  # a digest of what runs: gallery embeddings are cached under it
    note: str | None = None  # why it is not the runtime that was asked for

    @property
    def crop(self) -> str:
        return self.metadata.crop

    @property
    def input_size(self) -> int:
        """The side of the square face the network takes (100, or 150 for dlib's)."""
        return int(self.metadata.input_shape[0])

    def picture(self, image_bgr: np.ndarray, face=None, searched: bool = False) -> FacePicture:
        """The face in an image as this model sees it (its crop mode, at its input size);
        ``face``/``searched`` as in :func:`faceapp.vision.crops.cut_face`."""
        return cut_face(image_bgr, self.crop, face, searched, self.input_size)

    def embed_pictures(self, pictures: list[FacePicture]) -> np.ndarray:
        """Embeddings (N, D) of cut faces."""
        if not pictures:
            return np.zeros((0, self.head.dimensions), np.float32)
        batch = np.stack([preprocess(p.image, self.input_size) for p in pictures])
        return np.asarray(self.embed(batch), np.float32)

    def describe(self) -> str:
        """E.g. ``shipped model faceapp-aligned-v1 (int8)``."""
        return f"{self.files.describe()} ({self.runtime})"


def load_model(
    files: ModelFiles, runtime: str = DEFAULT_RUNTIME, cache_dir: Path | None = None
) -> RunnableModel:
    """The model ready to run on ``runtime``; one-line errors for missing or damaged files."""
    if runtime not in RUNTIMES:
        raise FaceappError(f"unknown runtime {runtime!r} (choose from {', '.join(RUNTIMES)})")
    try:
        metadata = ModelMetadata.read(files.stem)
    except FaceappError as error:
        if files.shipped:
            raise files.damaged(files.metadata_path, f"damaged ({one_line(error)})") from None
        raise
    if runtime == "keras":
        return _keras(files, metadata)
    flatbuffer, head, source = _int8_parts(files, metadata, cache_dir)
    try:
        embed = Int8Embedding(flatbuffer, name=str(source), input_shape=metadata.input_shape)
    except LiteRTError as error:
        if files.keras is None:
            raise
        return _keras(files, metadata, note=one_line(error)[:200])
    made = f"{metadata.crop}:{metadata.input_shape}:{metadata.unit_length}".encode()
    identity = sha256_of(flatbuffer + json.dumps(head.to_json()).encode() + made)
    if metadata.unit_length:  # the head compares directions: embed at unit length
        return RunnableModel(files, metadata, head, lambda b: unit(embed(b)), "int8", identity)
    return RunnableModel(files, metadata, head, embed, "int8", identity)


def _int8_parts(
    files: ModelFiles, metadata: ModelMetadata, cache_dir: Path | None
) -> tuple[bytes, Head, Path]:
    """``(int8 flatbuffer, head, where it was read)``: the copy beside the model, else the
    cached conversion, else a conversion now (TensorFlow)."""
    beside = files.int8_path
    if metadata.head is not None and (beside.is_file() or files.keras is None):
        if not beside.is_file():
            raise files.damaged(beside, "missing")
        flatbuffer = beside.read_bytes()
        if metadata.int8_sha256 and sha256_of(flatbuffer) != metadata.int8_sha256:
            raise files.damaged(
                beside, f"damaged (its SHA-256 is not the one in {files.metadata_path.name})"
            )
        return flatbuffer, metadata.head, beside
    if files.keras is None and not files.metadata_path.is_file():
        raise FaceappError(
            f"model file {beside} has no metadata beside it ({files.metadata_path.name}): an "
            "int8 copy needs the metadata its training wrote (or give the .keras model)"
        )
    if files.keras is None:
        raise files.damaged(files.metadata_path, "incomplete (no head and no Keras model)")
    return _converted(files.keras, cache_dir)


def _converted(keras_path: Path, cache_dir: Path | None) -> tuple[bytes, Head, Path]:
    """The one-off conversion of a Keras model, cached by the file's digest."""
    from faceapp.storage import write_bytes_atomic

    digest = file_sha256(keras_path)[:16]
    if cache_dir is not None:
        flat_file = Path(cache_dir) / f"{digest}-v{CONVERSION_VERSION}.int8.tflite"
        head_file = flat_file.with_name(f"{digest}-v{CONVERSION_VERSION}.head.json")
        try:
            head = Head.from_json(json.loads(head_file.read_text()), str(head_file))
            return flat_file.read_bytes(), head, flat_file
        except (OSError, ValueError, FaceappError):
            pass  # not converted yet, or damaged: convert (again)
    from faceapp.keras.convert import convert_file

    try:
        flatbuffer, head = convert_file(keras_path)
    except FaceappError:
        raise
    except Exception as error:  # noqa: BLE001 - TensorFlow raises many kinds
        raise FaceappError(
            f"cannot convert {keras_path} to int8: {one_line(error)[:200]}"
        ) from None
    if cache_dir is None:
        return flatbuffer, head, keras_path
    for target, data in ((flat_file, flatbuffer), (head_file, json.dumps(head.to_json()).encode())):
        try:
            write_bytes_atomic(target, data, overwrite=True)
        except (OSError, FaceappError):
            pass  # unwritable cache: it costs a conversion next time
    return flatbuffer, head, flat_file


def _keras(files: ModelFiles, metadata: ModelMetadata, note: str | None = None) -> RunnableModel:
    if files.keras is None:
        raise FaceappError(
            f"--runtime keras needs a Keras model file; the "
            f"{files.describe()} has only its int8 copy"
        )
    from faceapp.keras.convert import keras_embedder
    from faceapp.keras.networks import load_model as load_keras
    from faceapp.keras.networks import siamese_parts

    embedding, kernel, bias = siamese_parts(load_keras(files.keras))
    identity = sha256_of(f"keras:{file_sha256(files.keras)}:{metadata.crop}".encode())
    return RunnableModel(
        files, metadata, Head(kernel, bias), keras_embedder(embedding), "keras", identity, note
    )
