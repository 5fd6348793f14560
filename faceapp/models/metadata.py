"""The JSON file beside every model: what the app needs to run it, and how it was made.

``models/siamese-20261129.keras`` has ``models/siamese-20261129.json`` beside it (and the
int8 copy ``siamese-20261129.int8.tflite``). :class:`ModelMetadata` is the typed view of the
keys the app runs on — crop mode, input shape, head, the int8 file and its digest, the
thresholds; the rest (training settings, data counts, metrics) is kept as written. The app
takes its thresholds with this precedence: command-line flag, then the model's metadata, then
the original tutorial's defaults (0.5 / 0.5).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faceapp.errors import FaceappError
from faceapp.models.head import Head
from faceapp.storage import write_bytes_atomic
from faceapp.vision.imaging import INPUT_SHAPE

INT8_SUFFIX = ".int8.tflite"
LEGACY_CROP = "haar"  # models whose metadata names no crop were trained on Haar crops


def model_stem(model_path: str | os.PathLike) -> Path:
    """``foo.keras``, ``foo.h5``, ``foo.json`` and ``foo.int8.tflite`` -> ``foo``."""
    path = Path(model_path)
    if path.name.endswith(INT8_SUFFIX):
        return path.with_name(path.name[: -len(INT8_SUFFIX)])
    return path.with_suffix("")


def metadata_path(model_path: str | os.PathLike) -> Path:
    """``foo.keras`` (or ``foo.int8.tflite``) -> ``foo.json``."""
    stem = model_stem(model_path)
    return stem.with_name(stem.name + ".json")


def int8_path(model_path: str | os.PathLike) -> Path:
    """``foo.keras`` (or ``foo.json``) -> ``foo.int8.tflite``, where its int8 copy lives."""
    stem = model_stem(model_path)
    return stem.with_name(stem.name + INT8_SUFFIX)


def write_metadata(
    model_path: str | os.PathLike, metadata: dict[str, Any], overwrite: bool = False
) -> Path:
    """Write the metadata beside ``model_path`` atomically."""
    text = json.dumps(metadata, indent=2, sort_keys=True, default=str) + "\n"
    return write_bytes_atomic(metadata_path(model_path), text.encode(), overwrite=overwrite)


def read_metadata(model_path: str | os.PathLike) -> dict[str, Any]:
    """The metadata beside ``model_path``; ``{}`` when there is none.

    A file that exists but is not a JSON object raises :class:`FaceappError`.
    """
    path = metadata_path(model_path)
    if not path.exists():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FaceappError(f"unreadable model metadata {path}: {error}") from None
    if not isinstance(value, dict):
        raise FaceappError(f"model metadata {path} is not a JSON object")
    return value


@dataclass(frozen=True)
class ModelMetadata:
    """The keys of a model's metadata that decide how it runs, checked; ``values`` is the
    whole JSON object (training settings, metrics, ...)."""

    crop: str
    input_shape: tuple[int, ...]  # (side, side, 3)
    head: Head | None  # None: only in the Keras file (models trained before)
    int8_sha256: str | None  # of the int8 copy beside it (<stem>.int8.tflite)
    values: dict[str, Any]
    unit_length: bool = False  # embeddings are compared at unit length (the head was fit so)

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str) -> ModelMetadata:
        from faceapp.vision.crops import check_crop

        crop = values.get("crop") or values.get("training", {}).get("crop") or LEGACY_CROP
        try:
            crop = check_crop(crop)
        except FaceappError as error:
            raise FaceappError(f"{where}: {error}") from None
        shape = tuple(values.get("input_size") or INPUT_SHAPE)
        if len(shape) != 3 or shape[2] != 3 or shape[0] != shape[1] or not 32 <= shape[0] <= 512:
            raise FaceappError(
                f"{where}: input size {list(shape)} is not a square colour image "
                "(e.g. [100, 100, 3]) of 32 to 512 pixels"
            )
        head = Head.from_json(values["head"], where) if values.get("head") else None
        int8 = values.get("int8") or {}
        if not isinstance(int8, dict):
            raise FaceappError(f'{where}: "int8" must be an object with file and sha256')
        unit_length = bool(values.get("unit_length", False))
        return cls(crop, shape, head, int8.get("sha256"), values, unit_length)

    @classmethod
    def read(cls, model_path: str | os.PathLike) -> ModelMetadata:
        """The metadata beside ``model_path`` (defaults when there is none)."""
        return cls.from_dict(read_metadata(model_path), str(metadata_path(model_path)))
