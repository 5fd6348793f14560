"""Enrolment you can see and undo: faceapp.verification.enrolment and faceapp-enrol, on real
faces (tests/fixtures/faces): records, duplicates, refusals with reasons, folders and videos,
list, remove, clear, and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from conftest import PROJECT_ROOT, face_photos

from faceapp.errors import FaceappError
from faceapp.paths import DataRoot
from faceapp.verification import enrolment
from faceapp.verification.enrolment import EnrolmentError, enrol, enrol_image, enrolled_faces
from faceapp.vision.imaging import read_image

OWNER, OTHER = "Colin_Powell", "Tom_Daschle"


@pytest.fixture
def root(tmp_path) -> DataRoot:
    return DataRoot(tmp_path / "data").ensure()


def faceapp_enrol(root: DataRoot, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "faceapp.enrol", "--data-root", str(root.root), *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def shrunk_into(image: np.ndarray, side: int, canvas: int) -> np.ndarray:
    """The photo shrunk to ``side`` pixels in the middle of a grey ``canvas``: a face far
    from the camera (found by the full-range detector, eyes ~22 px apart at side 100)."""
    small = cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)
    frame = np.full((canvas, canvas, 3), 90, np.uint8)
    offset = (canvas - side) // 2
    frame[offset : offset + side, offset : offset + side] = small
    return frame


def test_each_enrolled_face_keeps_where_it_came_from(root):
    photos = face_photos(OWNER)[:3]
    report = enrol(*photos, data_root=root)
    assert not report.refused and len(report.enrolled) == 3
    faces = enrolled_faces(root)
    assert [f.source for f in faces] == [p.name for p in photos]  # oldest first
    for face in faces:
        assert face.path.is_file() and face.enrolled_at and len(face.pixels) == 64
        record = json.loads(enrolment.record_path(face.path).read_text())
        assert record["source"] == face.source and record["forced_past"] is None
        assert enrolment.record_path(face.path).name.startswith(".")  # galleries skip it


def test_the_same_picture_twice_is_refused_and_counts_once(root):
    photo = face_photos(OWNER)[0]
    report = enrol(photo, photo, face_photos(OWNER)[1], data_root=root)
    assert len(report.enrolled) == 2
    ((source, why),) = report.refused
    assert source == photo.name and why.startswith("already enrolled as ")
    with pytest.raises(EnrolmentError, match="already enrolled"):
        enrol_image(root, photo)
    assert len(enrolled_faces(root)) == 2


def test_a_nearly_identical_frame_is_refused(root, tmp_path):
    photo = face_photos(OWNER)[0]
    enrol_image(root, photo)
    ok, encoded = cv2.imencode(".jpg", read_image(photo), [cv2.IMWRITE_JPEG_QUALITY, 70])
    again = tmp_path / "again.jpg"
    again.write_bytes(encoded.tobytes())  # other pixels, the same face and pose
    with pytest.raises(EnrolmentError, match="nearly the same picture as .*turn your head"):
        enrol_image(root, again)
    enrol_image(root, face_photos(OWNER)[1])  # another photo of the same person is welcome


def test_poor_faces_are_refused_with_what_to_do_unless_forced(root):
    image = read_image(face_photos(OWNER)[0])
    with pytest.raises(EnrolmentError, match=r"^too dark: more light on your face$"):
        enrol_image(root, (image * 0.12).astype(np.uint8))
    with pytest.raises(EnrolmentError, match=r"^too small: come closer to the camera$"):
        enrol_image(root, shrunk_into(image, 80, 400))
    with pytest.raises(EnrolmentError, match="^no face found$"):
        enrol_image(root, np.full((300, 300, 3), 128, np.uint8))
    assert enrolled_faces(root) == []
    forced = enrol_image(root, np.full((300, 300, 3), 128, np.uint8), force=True)
    record = json.loads(enrolment.record_path(forced.path).read_text())
    assert record["forced_past"] == "no face found" and len(enrolled_faces(root)) == 1


def test_a_folder_enrols_each_photo_and_a_video_a_few_frames(root, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for photo in face_photos(OWNER)[:2]:
        (folder / photo.name).write_bytes(photo.read_bytes())
    (folder / "notes.txt").write_text("not an image")
    assert len(enrol(folder, data_root=root).enrolled) == 2
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5, (250, 250))
    for photo in face_photos(OTHER)[:5]:
        for _ in range(3):  # three frames each: 15 frames, 5 poses
            writer.write(read_image(photo))
    writer.release()
    report = enrol(video, data_root=root)
    assert len(report.enrolled) + len(report.refused) == enrolment.VIDEO_FRAMES
    assert len(report.enrolled) >= 4
    assert all(f.source.startswith("clip.avi at ") for f in report.enrolled)


def test_remove_by_name_or_source_and_clear(root):
    enrol(*face_photos(OWNER)[:3], data_root=root)
    first, second, third = enrolled_faces(root)
    assert enrolment.remove(root, second.source).name == second.name
    assert not second.path.exists() and not enrolment.record_path(second.path).exists()
    assert enrolment.remove(root, first.name).source == first.source
    with pytest.raises(FaceappError, match="no enrolled face named nope.jpg"):
        enrolment.remove(root, "nope.jpg")
    assert enrolment.clear(root) == 1 and enrolled_faces(root) == []
    assert list(root.verification_images.iterdir()) == []  # records gone too


def test_faces_enrolled_before_records_are_listed_without_a_source(root):
    legacy = root.verification_images / "old.jpg"
    legacy.write_bytes(face_photos(OWNER)[0].read_bytes())
    (face,) = enrolled_faces(root)
    assert face.name == "old.jpg" and face.source == "" and "source unknown" in face.describe()


def test_the_command_enrols_lists_removes_and_says_why_it_refused(root, tmp_path):
    photos = [str(p) for p in face_photos(OWNER)[:3]]
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((200, 200, 3), 200, np.uint8))
    done = faceapp_enrol(root, photos[0], photos[0], photos[1], str(blank))
    assert done.returncode == 2
    assert f"refused {face_photos(OWNER)[0].name}: already enrolled as" in done.stderr
    assert "refused blank.png: no face found" in done.stderr
    assert "2 enrolled, 2 refused; 2 in all" in done.stdout
    listed = faceapp_enrol(root, "--list")
    assert listed.returncode == 0 and "2 face(s) enrolled" in listed.stdout
    assert f"(from {face_photos(OWNER)[1].name}, " in listed.stdout
    assert faceapp_enrol(root, photos[2]).returncode == 0
    removed = faceapp_enrol(root, "--remove", face_photos(OWNER)[1].name)
    assert removed.returncode == 0 and removed.stdout.startswith("removed ")
    assert len(enrolled_faces(root)) == 2
    cleared = faceapp_enrol(root, "--clear")  # no terminal: it must not guess
    assert cleared.returncode == 2 and "--clear needs --yes" in cleared.stderr
    assert faceapp_enrol(root, "--clear", "--yes").returncode == 0
    assert enrolled_faces(root) == []


@pytest.mark.parametrize(
    "args, message",
    [
        ((), "nothing to do: give images to enrol, or --list"),
        (("missing.jpg",), "refused missing.jpg: file not found: missing.jpg"),
        (("--list", "x.jpg"), "not both"),
    ],
)
def test_the_command_reports_bad_input_in_one_line(root, args, message):
    done = faceapp_enrol(root, *args)
    assert done.returncode == 2 and message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_data_root_that_is_a_file_is_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    done = subprocess.run(
        [sys.executable, "-m", "faceapp.enrol", "--data-root", str(tmp_path / "file"), "x.jpg"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert (
        done.stderr.strip()
        == f"error: cannot use data root {tmp_path / 'file'}: it is a file, not a folder"
    )
