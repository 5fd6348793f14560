"""Frames and face boxes for the window, produced off the UI thread.

:class:`FramePipeline` is a background thread that reads a :class:`FrameSource`, paces
videos and image folders to their frame rate, and finds the face box of every frame on a
quick coarse search, every second frame (about 4 ms instead of 20-40 ms at 640x480). The UI thread only
takes :meth:`FramePipeline.latest` and uploads it to a texture, so the preview never waits
on the camera or the detector.

Captures and verifications need the exact crop the headless tools use, so they are asked
for with :meth:`FramePipeline.request_crop`: the thread runs :func:`faceapp.detect.face_crop`
on the next full-resolution frame and hands the result back through :meth:`crops`.

No Kivy and no TensorFlow here.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass

import cv2
import numpy as np

from faceapp.camera import FrameSource
from faceapp.detect import (DEFAULT_MARGIN, Box, FaceCrop, coarse_faces, detect_faces, expand,
                            face_crop, fallback_box)

DETECT_WIDTH = 320          # the preview's face box is found on a frame this wide
DETECT_EVERY = 2            # ... on every 2nd frame (the box moves at most one frame late)
FOLDER_FPS = 10.0           # image folders play at this rate
DEFAULT_FPS = 30.0          # videos that do not say their rate
IDLE_SLEEP = 0.1            # seconds between retries when the source gives nothing


@dataclass(frozen=True)
class PreviewFrame:
    """One frame for the preview: the BGR image, the face box, and what to tell the user."""

    image: np.ndarray
    box: Box
    detected: bool
    number: int
    read_at: float


@dataclass(frozen=True)
class CropResult:
    """The answer to :meth:`FramePipeline.request_crop`: the crop, or None and why not."""

    tag: object
    crop: FaceCrop | None
    message: str = ""


def preview_box(frame: np.ndarray, detect_width: int = DETECT_WIDTH) -> tuple[Box, bool]:
    """The face box of ``frame`` (with the crop's margin); the central box if none.

    First the quick coarse search that :func:`faceapp.detect.face_crop` also starts with
    (about 4 ms at 640x480, faces of a fifth of the frame's height or more, so the box on
    screen is the crop a capture will take); only when that finds nothing, a full search
    on a copy ``detect_width`` wide (about 22 ms) for smaller faces.
    """
    faces = coarse_faces(frame)
    if faces:
        return expand(faces[0], DEFAULT_MARGIN, frame.shape), True
    height, width = frame.shape[:2]
    scale = min(1.0, detect_width / float(width))
    small = frame if scale >= 1.0 else cv2.resize(
        frame, (int(round(width * scale)), int(round(height * scale))),
        interpolation=cv2.INTER_AREA)
    faces = detect_faces(small)
    if not faces:
        return fallback_box(frame.shape), False
    face = faces[0]
    full = Box(int(face.x / scale), int(face.y / scale),
               int(face.width / scale), int(face.height / scale))
    return expand(full, DEFAULT_MARGIN, frame.shape), True


class FramePipeline:
    """Read frames and find face boxes on a background thread; see the module doc."""

    def __init__(self, source: str, loop: bool = True, detect_width: int = DETECT_WIDTH,
                 detect_every: int = DETECT_EVERY, on_frame=None):
        """``on_frame()`` (optional) is called on this thread after each new frame, e.g. a
        thread-safe UI trigger, so the window shows a frame as soon as it is ready."""
        self.source_spec = source
        self.on_frame = on_frame
        self.loop = loop
        self.detect_width = detect_width
        self.detect_every = max(1, detect_every)
        self.message: str | None = "opening camera..."
        self.frames_read = 0
        self.detect_ms = 0.0           # time the last preview detection took
        self._latest: PreviewFrame | None = None
        self._lock = threading.Lock()
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        self._results: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="frame-pipeline", daemon=True)

    # --- called from the UI thread -------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def latest(self) -> PreviewFrame | None:
        """The newest frame (the same object until a new one arrives)."""
        with self._lock:
            return self._latest

    def request_crop(self, tag: object) -> None:
        """Ask for the full-resolution face crop of the next frame; see :meth:`crops`."""
        self._requests.put(tag)

    def crops(self) -> list[CropResult]:
        """The answers to :meth:`request_crop` that are ready (non-blocking)."""
        done = []
        while True:
            try:
                done.append(self._results.get_nowait())
            except queue.Empty:
                return done

    # --- the thread ----------------------------------------------------------------

    def _run(self) -> None:
        try:
            source = FrameSource(self.source_spec, loop=self.loop)
        except Exception as error:  # noqa: BLE001 - the window must stay up whatever happens
            self.message = f"cannot open camera {self.source_spec}: {error}"
            self._serve_requests_without_frames()
            return
        self.message = source.message
        interval = self._frame_interval(source)
        next_due = time.monotonic()
        with source:
            while not self._stop.is_set():
                frame = source.read()
                if frame is None:
                    self.message = source.message or "no frame"
                    self._answer_requests(None)
                    self._stop.wait(IDLE_SLEEP)
                    continue
                self.message = None
                prepared = self._prepare(frame)
                if interval:  # hand frames over on the beat, whatever detection cost
                    next_due = max(next_due + interval, time.monotonic() - interval)
                    self._stop.wait(max(0.0, next_due - time.monotonic()))
                self._publish(prepared)
                self._answer_requests(frame)

    def _frame_interval(self, source: FrameSource) -> float:
        """Seconds between frames for files and folders; 0 for webcams (read() blocks)."""
        if source.is_webcam:
            return 0.0
        if source.source.is_dir():
            return 1.0 / FOLDER_FPS
        return 1.0 / (source.frame_rate or DEFAULT_FPS)

    def _prepare(self, frame: np.ndarray) -> PreviewFrame:
        """The frame with its face box (found on every ``detect_every``-th frame)."""
        previous = self._latest
        same_size = previous is not None and previous.image.shape == frame.shape
        if same_size and self.frames_read % self.detect_every:
            box, detected = previous.box, previous.detected
        else:
            started = time.perf_counter()
            box, detected = preview_box(frame, self.detect_width)
            self.detect_ms = (time.perf_counter() - started) * 1000.0
        self.frames_read += 1
        return PreviewFrame(np.ascontiguousarray(frame), box, detected,
                            self.frames_read, time.monotonic())

    def _publish(self, latest: PreviewFrame) -> None:
        with self._lock:
            self._latest = latest
        if self.on_frame is not None:
            self.on_frame()

    def _answer_requests(self, frame: np.ndarray | None) -> None:
        while True:
            try:
                tag = self._requests.get_nowait()
            except queue.Empty:
                return
            if frame is None:
                self._results.put(CropResult(tag, None, self.message or "no frame from the camera"))
                continue
            try:
                self._results.put(CropResult(tag, face_crop(frame)))
            except Exception as error:  # noqa: BLE001
                self._results.put(CropResult(tag, None, f"cannot crop the face: {error}"))

    def _serve_requests_without_frames(self) -> None:
        while not self._stop.is_set():
            self._answer_requests(None)
            self._stop.wait(IDLE_SLEEP)
