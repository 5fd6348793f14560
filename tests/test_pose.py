"""Which way a face is turned (faceapp/vision/pose.py), on a real photo turned in 3-D by its
own mesh and rotated in the picture: the signs the module documents, and sizes near those
made."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import face_photos
from liveness_material import turning_frame

from faceapp.vision.finder import find_face
from faceapp.vision.pose import head_pose
from training.turning import TurningFrame


@pytest.fixture(scope="module")
def photo() -> TurningFrame:
    return turning_frame(face_photos("Jennifer_Capriati")[5])


def pose_of(image: np.ndarray):
    face = find_face(image)
    assert face is not None and face.landmarks is not None
    return head_pose(face.landmarks)


def test_a_face_turned_to_the_pictures_right_has_a_positive_yaw_and_up_a_positive_pitch(photo):
    still = pose_of(photo.image)
    assert abs(still.yaw) < 12 and abs(still.roll) < 8  # a near-frontal photo
    right, left = pose_of(photo.frame(25.0, 0.0)), pose_of(photo.frame(-25.0, 0.0))
    assert right.yaw - still.yaw > 10 and still.yaw - left.yaw > 10
    assert abs(right.pitch - still.pitch) < 6  # a turn is not a tilt
    up, down = pose_of(photo.frame(0.0, 20.0)), pose_of(photo.frame(0.0, -20.0))
    assert up.pitch - still.pitch > 8 and still.pitch - down.pitch > 8
    assert abs(up.yaw - still.yaw) < 6


def test_roll_follows_the_eye_line_down_to_the_pictures_right(photo):
    still = pose_of(photo.image)
    height, width = photo.image.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), -12.0, 1.0)  # clockwise on screen
    rolled = pose_of(cv2.warpAffine(photo.image, turn, (width, height)))
    assert rolled.roll - still.roll == pytest.approx(12.0, abs=2.5)
    assert abs(rolled.yaw - still.yaw) < 4 and abs(rolled.pitch - still.pitch) < 4
