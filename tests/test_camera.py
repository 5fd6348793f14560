"""FrameSource on a real video made from LFW photos, an image folder, and missing sources."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from faceapp.vision.camera import FrameSource, parse_source

SIZE = (320, 240)  # width, height


def write_video(path: Path, images: list[Path], fps: float = 10.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, SIZE)
    assert writer.isOpened(), "OpenCV cannot write MJPG video here"
    for image in images:
        writer.write(cv2.resize(cv2.imread(str(image)), SIZE))
    writer.release()
    return path


@pytest.fixture(scope="module")
def lfw_video(lfw: Path, tmp_path_factory) -> Path:
    photos = sorted((lfw / "Colin_Powell").glob("*.jpg"))[:6]
    return write_video(tmp_path_factory.mktemp("video") / "colin.avi", photos)


def read_all(source: FrameSource, limit: int = 100) -> list[np.ndarray]:
    frames = []
    while len(frames) < limit and (frame := source.read()) is not None:
        frames.append(frame)
    return frames


def test_parse_source():
    assert parse_source("0") == 0 and parse_source(2) == 2
    assert parse_source("clip.mp4") == Path("clip.mp4")


def test_video_gives_its_frames_then_ends(lfw_video):
    with FrameSource(lfw_video) as source:
        assert source.message is None and not source.finished
        frames = read_all(source)
        assert len(frames) == 6
        assert frames[0].shape == (SIZE[1], SIZE[0], 3) and frames[0].dtype == np.uint8
        assert source.read() is None
        assert source.finished and source.message == f"end of {lfw_video}"


def test_looping_video_restarts(lfw_video):
    with FrameSource(lfw_video, loop=True) as source:
        assert len(read_all(source, limit=15)) == 15


def test_image_folder_in_name_order_skipping_unreadable_files(lfw, tmp_path):
    photos = sorted((lfw / "Colin_Powell").glob("*.jpg"))[:3]
    for index, photo in enumerate(photos):
        (tmp_path / f"{index}.jpg").write_bytes(photo.read_bytes())
    (tmp_path / "1b.jpg").write_text("not an image")
    (tmp_path / ".hidden.jpg").write_bytes(photos[0].read_bytes())
    (tmp_path / "sub").mkdir()
    with FrameSource(tmp_path) as source:
        frames = read_all(source)
        assert len(frames) == 3
        assert np.array_equal(frames[1], cv2.imread(str(photos[1])))
        assert source.finished and "end of" in source.message


def test_missing_file_folder_and_empty_folder_give_messages(tmp_path):
    missing = FrameSource(tmp_path / "nope.mp4")
    assert missing.read() is None and missing.finished
    assert missing.message == f"camera source not found: {tmp_path / 'nope.mp4'}"
    empty = FrameSource(tmp_path)
    assert empty.read() is None and "no images in folder" in empty.message


def test_unreadable_video_file_gives_a_message(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 100)
    source = FrameSource(bad)
    assert source.read() is None and source.finished
    assert str(bad) in source.message


def test_missing_webcam_is_a_message_not_an_exception():
    source = FrameSource("97", retry_seconds=60)
    assert source.read() is None
    assert source.message.startswith("no camera at index 97")
    assert not source.finished  # a webcam is retried, never "finished"
    source.release()


def test_looping_folder_of_only_unreadable_images_ends_instead_of_spinning(tmp_path):
    import threading

    for name in ("a.jpg", "b.jpg", "c.png"):
        (tmp_path / name).write_bytes(b"not an image")
    result = {}

    def read_once():
        with FrameSource(tmp_path, loop=True) as source:
            result["frame"] = source.read()
            result["message"] = source.message
            result["finished"] = source.finished

    thread = threading.Thread(target=read_once, daemon=True)
    thread.start()
    thread.join(5.0)
    assert not thread.is_alive(), "FrameSource.read() loops forever over unreadable images"
    assert result["frame"] is None and result["finished"]
    assert "not a readable image" in result["message"]


def test_frame_pipeline_announces_every_frame_with_its_face_box(lfw_video):
    """The window is told about each new frame (it shows frames on that signal), in order,
    each with the face found (and tracked) in that real video frame."""
    import threading

    from faceapp.app.preview import FramePipeline

    seen, done = [], threading.Event()
    pipeline = FramePipeline(str(lfw_video), loop=False)

    def on_frame():
        seen.append(pipeline.latest())
        if len(seen) == 6:
            done.set()

    pipeline.on_frame = on_frame
    pipeline.start()
    try:
        assert done.wait(20), f"only {len(seen)} of 6 frames were announced"
    finally:
        pipeline.stop()
    assert [frame.number for frame in seen] == [1, 2, 3, 4, 5, 6]
    assert sum(frame.face is not None for frame in seen) >= 5
    for frame in seen:
        assert frame.image.shape == (240, 320, 3)
        if frame.face is not None:  # the face, with its landmarks, inside the frame
            assert frame.box.width > 40 and frame.box.height > 40
            assert frame.box.x >= 0 and frame.box.x + frame.box.width <= 320
            assert frame.face.landmarks is not None
