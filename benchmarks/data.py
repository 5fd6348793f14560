"""Inputs for the benchmarks: LFW photos (read in place, never copied into the repository)
and 640x480 BGR frames made from them, like a webcam's.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from faceapp.errors import FaceappError

LFW_ENV_VAR = "FACEAPP_LFW"
LFW_DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "lfw"
FRAME_SIZE = (640, 480)  # width, height
OWNER = "Colin_Powell"


def lfw_root(override: str | None = None) -> Path:
    root = Path(override or os.environ.get(LFW_ENV_VAR, LFW_DEFAULT))
    if not (root / OWNER).is_dir():
        raise FaceappError(f"LFW not found at {root} (pass --lfw DIR or set {LFW_ENV_VAR})")
    return root


def person_images(root: Path, person: str = OWNER) -> list[Path]:
    return sorted((root / person).glob("*.jpg"))


def people_with_images(root: Path, minimum: int, limit: int) -> dict[str, list[Path]]:
    """Up to ``limit`` people (alphabetical) with at least ``minimum`` photos each."""
    people: dict[str, list[Path]] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        images = sorted(folder.glob("*.jpg"))
        if len(images) >= minimum:
            people[folder.name] = images
            if len(people) >= limit:
                break
    return people


def webcam_frame(photo: Path) -> np.ndarray:
    """A 640x480 BGR frame: the 250x250 photo scaled to 480x480, edges replicated sideways.

    The face is then about 200 px wide, as a person at arm's length from a laptop webcam.
    """
    width, height = FRAME_SIZE
    image = cv2.imread(str(photo))
    if image is None:
        raise FaceappError(f"cannot read {photo}")
    image = cv2.resize(image, (height, height), interpolation=cv2.INTER_CUBIC)
    side = (width - height) // 2
    return cv2.copyMakeBorder(image, 0, 0, side, width - height - side, cv2.BORDER_REPLICATE)
