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
VIDEOS_ENV_VAR = "FACEAPP_VIDEOS"
VIDEOS_DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "videos"
FRAME_SIZE = (640, 480)  # width, height
OWNER = "Colin_Powell"


def lfw_root(override: str | None = None) -> Path:
    root = Path(override or os.environ.get(LFW_ENV_VAR) or LFW_DEFAULT)
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


def frame_with_face(
    photo: Path, face_height: int, size=FRAME_SIZE, offset=(0, 0), grey: int = 110
) -> np.ndarray:
    """A frame (640x480 by default) with an LFW photo scaled so that its face is about
    ``face_height`` px tall (LFW's faces are about 110 px of the 250 px photo), centred and
    moved by ``offset``; the photo is cut where it leaves the frame."""
    image = cv2.imread(str(photo))
    if image is None:
        raise FaceappError(f"cannot read {photo}")
    side = int(round(250 * face_height / 110))
    image = cv2.resize(
        image, (side, side), interpolation=cv2.INTER_AREA if side < 250 else cv2.INTER_CUBIC
    )
    width, height = size
    frame = np.full((height, width, 3), grey, np.uint8)
    x0, y0 = (width - side) // 2 + offset[0], (height - side) // 2 + offset[1]
    sx, sy, fx, fy = max(0, -x0), max(0, -y0), max(0, x0), max(0, y0)
    w, h = min(width - fx, side - sx), min(height - fy, side - sy)
    frame[fy : fy + h, fx : fx + w] = image[sy : sy + h, sx : sx + w]
    return frame


def sample_photos(root: Path, count: int, seed: int = 0) -> list[Path]:
    """One photo each of ``count`` people drawn at random (seeded) from an LFW-style tree."""
    import random

    people = sorted(p for p in root.iterdir() if p.is_dir())
    chooser = random.Random(seed)
    return [
        chooser.choice(sorted(person.glob("*.jpg")))
        for person in chooser.sample(people, min(count, len(people)))
    ]


def videos_root(override: str | None = None) -> Path | None:
    """The shared talking-head clips (``$FACEAPP_VIDEOS`` or ../shared/data/videos), or None."""
    root = Path(override or os.environ.get(VIDEOS_ENV_VAR) or VIDEOS_DEFAULT)
    return root if any(root.glob("*.mp4")) else None
