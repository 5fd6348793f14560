"""The one preprocessing: colour order, scaling and every kind of image source."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from faceapp.errors import FaceappError
from faceapp.vision.imaging import (
    INPUT_SHAPE,
    decode_image,
    list_images,
    preprocess,
    preprocess_many,
    read_image,
    summarize_skipped,
)


def test_real_face_is_100x100_rgb_in_unit_range(face_path):
    x = preprocess(face_path)
    assert x.shape == INPUT_SHAPE and x.dtype == np.float32
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert x.max() > 0.5  # not accidentally scaled twice


def test_colour_order_matches_an_rgb_decoder_on_a_real_photo(face_path):
    """PIL decodes to RGB, like TensorFlow's decoders; OpenCV gives BGR. Ours must be RGB."""
    rgb = np.asarray(Image.open(face_path).convert("RGB"))
    expected = cv2.resize(rgb, (100, 100), interpolation=cv2.INTER_AREA) / 255.0
    ours = preprocess(face_path)
    same = np.abs(ours - expected).mean()
    swapped = np.abs(ours[..., ::-1] - expected).mean()
    assert same < 0.01, same
    assert swapped > 3 * same


def test_pure_red_stays_red(tmp_path):
    bgr = np.zeros((50, 80, 3), np.uint8)
    bgr[..., 2] = 255  # red in OpenCV's BGR order
    path = tmp_path / "red.png"
    cv2.imwrite(str(path), bgr)
    for source in (path, str(path), path.read_bytes(), bgr):
        x = preprocess(source)
        np.testing.assert_allclose(x[50, 50], [1.0, 0.0, 0.0])


def test_path_bytes_and_frame_give_identical_input(face_path):
    frame = cv2.imread(str(face_path))
    from_path = preprocess(face_path)
    np.testing.assert_array_equal(from_path, preprocess(face_path.read_bytes()))
    np.testing.assert_array_equal(from_path, preprocess(frame))


def test_grey_alpha_and_16_bit_images_become_rgb(tmp_path, face_path):
    bgr = read_image(face_path)
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    bgra = cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA)
    deep = bgr.astype(np.uint16) * 257
    for name, image in [("grey.png", grey), ("alpha.png", bgra), ("deep.png", deep)]:
        path = tmp_path / name
        assert cv2.imwrite(str(path), image)
        x = preprocess(path)
        assert x.shape == INPUT_SHAPE, name
    np.testing.assert_allclose(preprocess(tmp_path / "deep.png"), preprocess(face_path), atol=1e-6)
    grey_x = preprocess(tmp_path / "grey.png")
    np.testing.assert_array_equal(grey_x[..., 0], grey_x[..., 2])


def test_tiny_and_non_ascii_images(tmp_path):
    path = tmp_path / "Zoë_Ångström_人.jpg"
    path.write_bytes(cv2.imencode(".jpg", np.full((1, 1, 3), 200, np.uint8))[1].tobytes())
    assert preprocess(path).shape == INPUT_SHAPE


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty image file"),
        (b"this is not a picture", "not a readable image"),
    ],
)
def test_bad_files_raise_one_line_errors_naming_the_file(tmp_path, content, message):
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(FaceappError, match=message) as error:
        preprocess(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_truncated_jpeg_is_refused(tmp_path, face_path):
    path = tmp_path / "cut.jpg"
    path.write_bytes(face_path.read_bytes()[:3000])
    with pytest.raises(FaceappError, match="truncated JPEG"):
        preprocess(path)


def test_truncation_is_found_wherever_the_cut_falls(tmp_path, face_path):
    data = face_path.read_bytes()
    png = cv2.imencode(".png", read_image(face_path))[1].tobytes()
    for cut in (len(data) // 3, len(data) - 200, len(data) - 2):
        with pytest.raises(FaceappError, match="truncated JPEG"):
            decode_image(data[:cut], "cut.jpg")
    with pytest.raises(FaceappError, match="truncated PNG"):
        decode_image(png[: len(png) - 20], "cut.png")


def test_data_after_the_image_is_fine(face_path):
    """Phones append videos or padding after the JPEG's end ("motion photos")."""
    data = face_path.read_bytes()
    trailing = np.random.default_rng(0).bytes(50_000)
    np.testing.assert_array_equal(decode_image(data + trailing), decode_image(data))
    png = cv2.imencode(".png", read_image(face_path))[1].tobytes()
    assert decode_image(png + b"\0" * 100).shape == read_image(face_path).shape


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FaceappError, match="file not found"):
        preprocess(tmp_path / "nope.jpg")
    with pytest.raises(FaceappError, match="not a file"):
        read_image(tmp_path)
    with pytest.raises(FaceappError, match="image folder not found"):
        list_images(tmp_path / "nope")


def test_unreadable_folder_listing_error_is_one_line(tmp_path, monkeypatch):
    def refuse(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(type(tmp_path), "iterdir", refuse)
    with pytest.raises(FaceappError, match="cannot read image folder .*Permission denied"):
        list_images(tmp_path)


def test_listing_ignores_hidden_files_subfolders_and_other_suffixes(tmp_path, face_path):
    (tmp_path / "b.jpg").write_bytes(face_path.read_bytes())
    (tmp_path / "a.PNG").write_bytes(b"x")
    (tmp_path / ".hidden.jpg").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "folder.jpg").mkdir()
    assert [p.name for p in list_images(tmp_path)] == ["a.PNG", "b.jpg"]


def test_batch_skips_unreadable_images_and_says_so_in_one_line(tmp_path, face_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"")
    batch, skipped = preprocess_many([face_path, bad, face_path])
    assert batch.shape == (2, *INPUT_SHAPE)
    assert [source for source, _ in skipped] == [bad]
    line = summarize_skipped(skipped)
    assert line.startswith("warning: skipped 1 unreadable images") and "\n" not in line
    assert summarize_skipped([]) is None
