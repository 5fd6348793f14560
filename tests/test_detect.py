"""Finding faces: BlazeFace + Face Mesh on real faces in webcam-sized frames, tracking, and
frames with no face, tiny or huge frames."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest
from conftest import face_photos

from benchmarks.data import frame_with_face as in_frame
from faceapp.vision.finder import FaceFinder, find_face
from faceapp.vision.geometry import Box, context_box, fallback_box
from faceapp.vision.landmarks import LEFT_EYE_OUTER, NOSE_TIP, RIGHT_EYE_OUTER

PHOTOS = [
    p
    for person in (
        "Colin_Powell",
        "Jennifer_Capriati",
        "Tiger_Woods",
        "Nicole_Kidman",
        "Carlos_Menem",
    )
    for p in face_photos(person, slice(0, 3))
]


@pytest.mark.parametrize("face_height", [80, 110, 200, 360, 480])
def test_faces_from_80_px_to_the_frame_height_are_found_with_landmarks(face_height):
    found = 0
    for photo in PHOTOS:
        face = find_face(in_frame(photo, face_height))
        if face is None:
            continue
        cx, cy = face.box.x + face.box.width / 2, face.box.y + face.box.height / 2
        assert abs(cx - 320) < 0.4 * face_height and abs(cy - 240) < 0.6 * face_height
        assert 0.5 * face_height < face.box.height < 2.0 * face_height
        assert face.landmarks is not None and face.landmarks.points.shape == (468, 3)
        # the mesh's anatomy: eyes on either side of the nose, above it
        xy = face.landmarks.xy
        assert xy[RIGHT_EYE_OUTER][0] < xy[NOSE_TIP][0] < xy[LEFT_EYE_OUTER][0]
        assert xy[NOSE_TIP][1] > max(xy[RIGHT_EYE_OUTER][1], xy[LEFT_EYE_OUTER][1])
        found += 1
    assert found >= len(PHOTOS) - 1


def test_of_two_faces_the_larger_is_the_one():
    small = cv2.resize(cv2.imread(str(face_photos("Tiger_Woods")[0])), (125, 125))
    large = cv2.imread(str(face_photos("Nicole_Kidman")[0]))
    frame = np.full((480, 640, 3), 110, np.uint8)
    frame[20:145, 20:145] = small
    frame[200:450, 350:600] = large
    face = find_face(frame)
    assert face is not None and face.box.x > 300 and face.box.y > 180


def test_no_face_is_none_and_the_fallback_box_is_central():
    frame = np.full((480, 640, 3), 90, np.uint8)
    assert find_face(frame) is None
    assert fallback_box(frame.shape) == Box(195, 115, 250, 250)


@pytest.mark.parametrize("shape", [(1, 1, 3), (3, 7, 3), (10000, 10000, 3)])
def test_tiny_and_huge_frames_give_no_face_and_no_error(shape):
    assert find_face(np.full(shape, 128, np.uint8)) is None


def test_tracking_follows_the_face_without_running_the_detector_again():
    photo = face_photos("Colin_Powell")[0]
    finder = FaceFinder(track=True)
    boxes = []
    for step in range(8):  # the face drifts right, 6 px a frame
        face = finder.find(in_frame(photo, 160, offset=(6 * step, 0)))
        assert face is not None and face.landmarks is not None
        boxes.append(face.box)
    assert finder.detections == 1
    shifts = [b.x - a.x for a, b in zip(boxes, boxes[1:])]
    assert 3 <= np.median(shifts) <= 9
    # the face leaves: tracking lets go and the detector looks again, and finds nothing
    assert finder.find(np.full((480, 640, 3), 110, np.uint8)) is None
    assert finder.last is None and finder.detections == 2


def test_a_face_cut_by_the_frame_edge_is_still_found():
    frame = in_frame(face_photos("Tiger_Woods")[0], 200, offset=(-300, 0))  # half outside
    face = find_face(frame)
    assert face is not None
    assert face.box.x == 0 and face.box.width > 20


def test_context_box_is_a_square_twice_the_face_inside_the_frame():
    box = context_box(Box(600, 10, 60, 80), (480, 640, 3))
    assert box.width == box.height == 160
    assert box.x + box.width <= 640 and box.y >= 0


def test_each_thread_gets_its_own_networks_and_the_same_answers():
    frames = [in_frame(p, 150) for p in PHOTOS]
    serial = [find_face(f).box for f in frames]
    with ThreadPoolExecutor(max_workers=3) as pool:
        threaded = list(pool.map(lambda f: find_face(f).box, frames))
    assert threaded == serial
