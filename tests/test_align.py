"""Alignment and the crop modes: the same face turned, scaled or moved gives the same input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import face_photos

from faceapp.errors import FaceappError
from faceapp.vision.align import TEMPLATE, TEMPLATE_INDICES, align, alignment_matrix, similarity
from faceapp.vision.crops import cut_face
from faceapp.vision.finder import find_face
from faceapp.vision.geometry import NO_FACE_NOTE
from faceapp.vision.imaging import INPUT_SIZE, preprocess


def test_similarity_recovers_a_known_rotation_scale_and_shift():
    rng = np.random.default_rng(0)
    source = rng.uniform(0, 100, (5, 2))
    angle, scale, shift = 0.3, 1.7, np.array([12.0, -4.0])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    target = scale * source @ rotation.T + shift
    matrix = similarity(source, target)
    np.testing.assert_allclose(matrix[:, :2], scale * rotation, atol=1e-9)
    np.testing.assert_allclose(matrix[:, 2], shift, atol=1e-9)
    with pytest.raises(ValueError):
        similarity(np.ones((5, 2)), target)


def turned(image: np.ndarray, degrees: float, scale: float) -> np.ndarray:
    """The photo turned and scaled about its centre, on a 400x400 canvas."""
    canvas = cv2.copyMakeBorder(image, 75, 75, 75, 75, cv2.BORDER_CONSTANT, value=(90, 90, 90))
    matrix = cv2.getRotationMatrix2D((200, 200), degrees, scale)
    return cv2.warpAffine(canvas, matrix, (400, 400), borderValue=(90, 90, 90))


@pytest.mark.parametrize("person", ["Colin_Powell", "Nicole_Kidman", "Pete_Sampras"])
def test_a_turned_and_scaled_face_aligns_to_the_same_picture(person):
    photo = cv2.imread(str(face_photos(person)[0]))
    upright = cut_face(turned(photo, 0, 1.0))
    tilted = cut_face(turned(photo, 25, 1.3))
    assert upright.aligned and tilted.aligned
    assert upright.image.shape == tilted.image.shape == (INPUT_SIZE, INPUT_SIZE, 3)
    same = np.abs(upright.image.astype(float) - tilted.image.astype(float)).mean()
    # without alignment the tilted face would differ from the upright one by far more
    unaligned = cv2.resize(turned(photo, 25, 1.3)[100:300, 100:300], (INPUT_SIZE, INPUT_SIZE))
    plain = cv2.resize(turned(photo, 0, 1.0)[100:300, 100:300], (INPUT_SIZE, INPUT_SIZE))
    different = np.abs(unaligned.astype(float) - plain.astype(float)).mean()
    assert same < 12 and same < different / 2, (same, different)


def test_the_landmarks_land_on_the_template():
    image = cv2.imread(str(face_photos("Tiger_Woods")[1]))
    face = find_face(image)
    matrix = alignment_matrix(face.landmarks.xy, 150)
    points = face.landmarks.xy[list(TEMPLATE_INDICES)] @ matrix[:, :2].T + matrix[:, 2]
    assert np.abs(points - TEMPLATE * 150).max() < 6  # px at 150: a face, not a smudge


def test_landmarks_far_outside_the_image_still_give_a_full_finite_picture():
    image = cv2.imread(str(face_photos("Tim_Henman")[0]))
    landmarks = find_face(image).landmarks.xy + np.array([900.0, -700.0])
    picture = align(image, landmarks, INPUT_SIZE)
    assert picture.shape == (INPUT_SIZE, INPUT_SIZE, 3)
    assert np.isfinite(preprocess(picture)).all()


def test_no_face_gives_the_central_box_and_says_so():
    picture = cut_face(np.full((480, 640, 3), 90, np.uint8))
    assert not picture.found and not picture.aligned and picture.note == NO_FACE_NOTE
    assert picture.image.shape == (250, 250, 3)


def test_the_legacy_crop_is_the_haar_box_of_models_trained_before_alignment(face_path):
    from faceapp.vision.haar import face_crop

    image = cv2.imread(str(face_path))
    picture = cut_face(image, "haar")
    np.testing.assert_array_equal(picture.image, face_crop(image).image)
    assert picture.note == "" and cut_face(image, "none").image.shape == image.shape


def test_an_unknown_crop_is_a_one_line_error(face_path):
    with pytest.raises(FaceappError, match="unknown crop 'sideways'"):
        cut_face(cv2.imread(str(face_path)), "sideways")
