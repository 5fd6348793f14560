"""Face detection on real LFW faces: the quick coarse search finds what the full one finds."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceapp import detect
from faceapp.detect import face_crop


def webcam_frame(photo, side: int = 480) -> np.ndarray:
    """A 640x480 frame with the 250x250 photo scaled to ``side`` px, centred on grey."""
    image = cv2.resize(cv2.imread(str(photo)), (side, side), interpolation=cv2.INTER_AREA
                       if side < 250 else cv2.INTER_CUBIC)
    frame = np.full((480, 640, 3), 128, np.uint8)
    y, x = (480 - side) // 2, (640 - side) // 2
    frame[y:y + side, x:x + side] = image
    return frame


def iou(a: detect.Box, b: detect.Box) -> float:
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.x + a.width, b.x + b.width), min(a.y + a.height, b.y + b.height)
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    return inter / (a.area + b.area - inter)


@pytest.fixture(scope="module")
def photos(lfw):
    return sorted((lfw / "Colin_Powell").glob("*.jpg"))[:12] + \
        sorted((lfw / "Serena_Williams").glob("*.jpg"))[:8]


def test_large_faces_are_found_quickly_where_the_full_search_finds_them(photos):
    frames = [webcam_frame(p) for p in photos]
    overlaps = []
    for frame in frames:
        full = detect.detect_faces(frame)
        quick = detect.largest_face(frame)
        assert (quick is None) == (not full)
        if full:
            overlaps.append(iou(full[0], quick))
    assert len(overlaps) >= 0.9 * len(frames)
    assert np.median(overlaps) > 0.7
    assert sum(detect.face_crop(f).detected for f in frames) == len(overlaps)


def test_small_faces_fall_back_to_the_full_search(photos):
    # face about 60 px: too small for the coarse copy, still above MIN_FACE_FRACTION
    frame = webcam_frame(photos[0], side=140)
    assert detect.coarse_faces(frame) == []
    assert detect.largest_face(frame) == detect.detect_faces(frame)[0]
    assert detect.face_crop(frame).detected


def test_no_face_gives_the_fallback_box():
    frame = np.full((480, 640, 3), 90, np.uint8)
    assert detect.largest_face(frame) is None
    crop = detect.face_crop(frame)
    assert not crop.detected and crop.box == detect.fallback_box(frame.shape)


def test_small_frames_skip_the_coarse_search(photos):
    photo = cv2.imread(str(photos[0]))  # 250x250: shrinking to 120 px is not worth it
    assert detect.coarse_faces(photo[:200, :200]) == []
    assert detect.face_crop(photo).detected


def test_detection_gives_the_same_boxes_from_several_threads(lfw):
    """One cascade per thread: concurrent detection must not change the crops."""
    from concurrent.futures import ThreadPoolExecutor

    from faceapp.imaging import read_image

    frames = [read_image(p) for p in sorted((lfw / "Colin_Powell").glob("*.jpg"))[:40]]
    serial = [face_crop(frame).box for frame in frames]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda frame: face_crop(frame).box, frames))
    assert threaded == serial
