"""Saving a trained model the one way every trainer saves it.

:func:`output_path` picks the file (never one that exists), :func:`model_metadata` builds the
metadata every model carries, and :func:`export` writes the three files the app and
fine-tuning need::

    <name>.keras         the Keras model (fine-tuning, evaluation, --runtime keras)
    <name>.int8.tflite   the int8 copy the app runs on LiteRT (faceapp.models.runtime)
    <name>.json          the metadata, with the head's numbers and the copy's SHA-256

Each is written atomically and privately; the metadata last, so a model whose metadata
exists is complete.
"""

from __future__ import annotations

import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from faceapp.errors import FaceappError, one_line
from faceapp.models.metadata import int8_path, metadata_path, write_metadata
from faceapp.paths import DataRoot
from faceapp.storage import unique_name, write_bytes_atomic
from faceapp.verification.rule import DEFAULT_VERIFICATION_THRESHOLD
from faceapp.vision.imaging import INPUT_SHAPE

FORMAT = 2  # 2: the head and the int8 copy are in the metadata (1: Keras file only)


def output_path(output: str | None, root: DataRoot, prefix: str) -> Path:
    """``output`` (a ``.keras`` file) or a new unique name under ``models/``; refuses a name
    whose model, metadata or int8 copy exists."""
    path = Path(output) if output else root.models / unique_name(prefix, ".keras")
    if path.suffix != ".keras":
        raise FaceappError(f"--output must end in .keras: {path}")
    for candidate in (path, metadata_path(path), int8_path(path)):
        if candidate.exists():
            raise FaceappError(f"refusing to overwrite existing model: {candidate}")
    return path


def invocation(module: str) -> str:
    """The command line that is running, as it was typed (``python -m module ...``)."""
    return shlex.join(["python", "-m", module, *sys.argv[1:]])


def model_metadata(
    *,
    architecture: str,
    crop: str,
    detection_threshold: float,
    threshold_rule: str,
    settings: dict,
    data: dict,
    metrics: dict,
    training_seconds: float,
    epochs: int,
    **extra: Any,
) -> dict:
    """The metadata every trained model carries (``extra``: a trainer's own keys)."""
    return {
        "format": FORMAT,
        "architecture": architecture,
        "crop": crop,
        "input_size": list(INPUT_SHAPE),
        "detection_threshold": round(float(detection_threshold), 4),
        "detection_threshold_rule": threshold_rule,
        "verification_threshold": DEFAULT_VERIFICATION_THRESHOLD,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "training": settings,
        "data": data,
        "epochs": epochs,
        "training_seconds": round(training_seconds, 1),
        "metrics": metrics,
        **extra,
    }


def export(model, path: Path, metadata: dict) -> dict:
    """Write ``model`` (Keras), its int8 copy and head, and ``metadata``; return the metadata
    as written. Without TensorFlow Lite the model is still saved, and the app converts it on
    first use (a one-line note says so)."""
    from faceapp.keras.convert import runtime_parts
    from faceapp.keras.networks import save_model
    from faceapp.models.runtime import sha256_of

    save_model(model, path)
    try:
        flatbuffer, head = runtime_parts(model)
    except Exception as error:  # noqa: BLE001 - the Keras model is saved; the app converts
        print(
            f"note: no int8 copy written ({one_line(error)[:200]}); the app converts the "
            "model on its first start",
            file=sys.stderr,
        )
    else:
        copy = write_bytes_atomic(int8_path(path), flatbuffer)
        metadata = {
            **metadata,
            "head": head.to_json(),
            "int8": {"file": copy.name, "sha256": sha256_of(flatbuffer)},
        }
    write_metadata(path, metadata)
    return metadata
