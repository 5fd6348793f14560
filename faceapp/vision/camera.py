"""Frames from a webcam, a video file or a folder of images, through one interface.

``FrameSource("0")`` opens webcam 0, ``FrameSource("clip.mp4")`` a video file and
``FrameSource("frames/")`` a folder of images (played in name order). Webcams and videos go
through ``cv2.VideoCapture``; folders through OpenCV's decoder. ``read()`` never raises:
it returns a BGR frame, or None with :attr:`FrameSource.message` saying why (no camera,
camera lost, video ended, unreadable file). A lost or missing webcam is retried every
few seconds, so unplugging and replugging it just works.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import cv2
import numpy as np

from faceapp.errors import FaceappError
from faceapp.vision.imaging import list_images, read_image

RETRY_SECONDS = 2.0
FOLDER_FPS = 10.0  # an image folder plays at this rate


def parse_source(source: str | int | os.PathLike) -> int | Path:
    """A webcam index (``"0"`` -> 0) or a path to a video file or image folder."""
    if isinstance(source, int):
        return source
    text = str(source).strip()
    if text.isdigit():
        return int(text)
    return Path(text).expanduser()


def _open_webcam(index: int) -> cv2.VideoCapture:
    """Open a webcam without OpenCV's backend chatter on stderr when there is none."""
    previous = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        return cv2.VideoCapture(index)
    finally:
        cv2.utils.logging.setLogLevel(previous)


class FolderCapture:
    """``cv2.VideoCapture``'s ``read()/release()/isOpened()`` over a folder of images."""

    def __init__(self, folder: Path, loop: bool = False):
        self.paths = list_images(folder)
        self.loop = loop
        self.position = 0
        self.last_error: str | None = None

    def isOpened(self) -> bool:  # noqa: N802 (OpenCV's spelling)
        return bool(self.paths)

    def read(self) -> tuple[bool, np.ndarray | None]:
        """The next readable image; unreadable files are skipped (and remembered).

        One call tries each file at most once, so a looping folder whose images are all
        unreadable ends instead of spinning forever.
        """
        for _ in range(len(self.paths)):
            if self.position >= len(self.paths):
                if not self.loop:
                    return False, None
                self.position = 0
            path = self.paths[self.position]
            self.position += 1
            try:
                return True, read_image(path)
            except FaceappError as error:
                self.last_error = str(error)
        return False, None

    def release(self) -> None:
        self.paths = []


class FrameSource:
    """Frames from a webcam index, a video file or an image folder; see the module doc."""

    def __init__(
        self,
        source: str | int | os.PathLike = 0,
        loop: bool = False,
        retry_seconds: float = RETRY_SECONDS,
        realtime: bool = False,
    ):
        """``realtime``: a video file or folder gives each frame no sooner than its time at
        its frame rate, as a webcam would (for the login's tests and benchmarks)."""
        self.source = parse_source(source)
        self.loop = loop
        self.realtime = realtime
        self._started_at: float | None = None
        self.retry_seconds = retry_seconds
        self.message: str | None = None
        self.frames_read = 0
        self._capture: cv2.VideoCapture | FolderCapture | None = None
        self._next_retry = 0.0
        self._open()

    @property
    def is_webcam(self) -> bool:
        return isinstance(self.source, int)

    @property
    def is_folder(self) -> bool:
        return isinstance(self.source, Path) and self.source.is_dir()

    @property
    def opened(self) -> bool:
        """Whether the source is open now (a webcam that is missing is not)."""
        return self._capture is not None

    @property
    def finished(self) -> bool:
        """True when a video or folder has ended (or cannot be read) and will give no more."""
        return not self.is_webcam and self._capture is None

    @property
    def frame_rate(self) -> float | None:
        """Frames per second a video or webcam reports, or None (folders, unknown)."""
        capture = self._capture
        if capture is None or isinstance(capture, FolderCapture):
            return None
        fps = capture.get(cv2.CAP_PROP_FPS)
        return float(fps) if fps and 1.0 <= fps <= 240.0 else None

    @property
    def paced(self) -> bool:
        """True for a webcam, which gives frames as time passes, and for files delivered in
        real time; a file or folder otherwise gives them as fast as they are read."""
        return self.is_webcam or self.realtime

    def video_seconds(self) -> float:
        """How much video time the frames read so far stand for (files at their frame
        rate, folders at FOLDER_FPS); for a webcam, 0: use the wall clock."""
        if self.is_webcam:
            return 0.0
        return self.frames_read / (self.frame_rate or FOLDER_FPS)

    def describe(self) -> str:
        return f"camera {self.source}" if self.is_webcam else str(self.source)

    def _open(self) -> None:
        self._next_retry = time.monotonic() + self.retry_seconds
        source = self.source
        if isinstance(source, int):
            capture = _open_webcam(source)
            if capture.isOpened():
                self._capture, self.message = capture, None
            else:
                capture.release()
                self.message = (
                    f"no camera at index {source} (retrying every {self.retry_seconds:g} s)"
                )
            return
        if not source.exists():
            self.message = f"camera source not found: {source}"
        elif source.is_dir():
            try:
                folder = FolderCapture(source, loop=self.loop)
            except FaceappError as error:
                self.message = str(error)
                return
            if folder.isOpened():
                self._capture, self.message = folder, None
            else:
                self.message = f"no images in folder: {source}"
        else:
            video = cv2.VideoCapture(str(source))
            if video.isOpened():
                self._capture, self.message = video, None
            else:
                video.release()
                self.message = f"cannot open video file: {source}"

    def read(self) -> np.ndarray | None:
        """The next BGR frame, or None (see :attr:`message`). Never raises."""
        if self._capture is None:
            if self.is_webcam and time.monotonic() >= self._next_retry:
                self._open()
            if self._capture is None:
                return None
        try:
            ok, frame = self._capture.read()
        except cv2.error as error:
            ok, frame = False, None
            self.message = f"{self.describe()} failed: {error}"
        if ok and frame is not None and frame.size:
            if self.realtime and not self.is_webcam:
                self._wait_for_frame_time()
            self.frames_read += 1
            return frame
        return self._on_read_failure()

    def _wait_for_frame_time(self) -> None:
        """Hold the next frame back until its time at the source's frame rate."""
        now = time.monotonic()
        if self._started_at is None:
            self._started_at = now
        due = self._started_at + self.frames_read / (self.frame_rate or FOLDER_FPS)
        if due > now:
            time.sleep(due - now)

    def _on_read_failure(self) -> np.ndarray | None:
        if self.is_webcam:
            self.release()
            self.message = (
                f"camera {self.source} stopped sending frames "
                f"(retrying every {self.retry_seconds:g} s)"
            )
            self._next_retry = time.monotonic() + self.retry_seconds
            return None
        if self.loop and self.frames_read and isinstance(self._capture, cv2.VideoCapture):
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._capture.read()
            if ok and frame is not None:
                return frame
        last_error = getattr(self._capture, "last_error", None)
        self.release()
        if self.frames_read:
            self.message = f"end of {self.source}"
        else:
            self.message = last_error or f"no readable frames in {self.source}"
        return None

    def release(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc) -> None:
        self.release()
