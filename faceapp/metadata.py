"""The small JSON file written beside every model, and the app's threshold defaults.

``models/siamese-20261129.keras`` has ``models/siamese-20261129.json`` beside it with the
architecture, input size, data counts, evaluation metrics and the recommended detection
threshold. The app takes its thresholds with this precedence: command-line flag, then the
model's metadata, then the seed's defaults (0.5 / 0.5).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faceapp.errors import FaceappError
from faceapp.storage import write_bytes_atomic

DEFAULT_DETECTION_THRESHOLD = 0.5
DEFAULT_VERIFICATION_THRESHOLD = 0.5


def metadata_path(model_path: str | os.PathLike) -> Path:
    """``foo.keras`` -> ``foo.json``."""
    return Path(model_path).with_suffix(".json")


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


def parse_threshold(value: Any, setting: str) -> float:
    """A threshold as a float in [0, 1]; otherwise a clear error naming ``setting``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise FaceappError(f"{setting} must be a number between 0 and 1, got {value!r}") from None
    if math.isnan(number) or not 0.0 <= number <= 1.0:
        raise FaceappError(f"{setting} must be between 0 and 1, got {value!r}")
    return number


@dataclass(frozen=True)
class Thresholds:
    """The decision rule's two numbers.

    detection: a verification image matches when its score is above this.
    verification: the person is verified when the fraction of matches is above this.
    """

    detection: float = DEFAULT_DETECTION_THRESHOLD
    verification: float = DEFAULT_VERIFICATION_THRESHOLD

    @classmethod
    def resolve(
        cls,
        detection: Any = None,
        verification: Any = None,
        metadata: dict[str, Any] | None = None,
    ) -> "Thresholds":
        """Flag if given, else the model's metadata, else the defaults."""
        metadata = metadata or {}

        def pick(flag: Any, key: str, default: float, setting: str) -> float:
            if flag is not None:
                return parse_threshold(flag, setting)
            if metadata.get(key) is not None:
                return parse_threshold(metadata[key], f"{key} in model metadata")
            return default

        return cls(
            detection=pick(detection, "detection_threshold",
                           DEFAULT_DETECTION_THRESHOLD, "--detection-threshold"),
            verification=pick(verification, "verification_threshold",
                              DEFAULT_VERIFICATION_THRESHOLD, "--verification-threshold"),
        )
