"""Frames and faces for the window, produced off the UI thread.

:class:`FramePipeline` is a background thread that reads a :class:`FrameSource`, paces
videos and image folders to their frame rate, and finds the face in every frame with a
tracking :class:`~faceapp.vision.finder.FaceFinder` (the previous frame's landmarks say where to
look; the detector runs only when they lose the face). The UI thread only takes
:meth:`FramePipeline.latest` and uploads it to a texture, so the preview never waits on the
camera or the networks; captures and verifications use the very frame and face the user
sees.

No Kivy and no TensorFlow here.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from faceapp.vision.camera import FOLDER_FPS, FrameSource
from faceapp.vision.finder import Face, FaceFinder
from faceapp.vision.geometry import Box, fallback_box

DEFAULT_FPS = 30.0  # videos that do not say their rate
IDLE_SLEEP = 0.1  # seconds between retries when the source gives nothing


@dataclass(frozen=True)
class PreviewFrame:
    """One frame: the BGR image, the face found in it (None: none), a number, a time."""

    image: np.ndarray
    face: Face | None
    number: int
    read_at: float

    @property
    def box(self) -> Box:
        """The box to draw: the face's, else the central box a capture would keep."""
        return self.face.box if self.face is not None else fallback_box(self.image.shape)


class FramePipeline:
    """Read frames and find faces on a background thread; see the module doc."""

    def __init__(self, source: str, loop: bool = True, on_frame=None):
        """``on_frame()`` (optional) is called on this thread after each new frame, e.g. a
        thread-safe UI trigger, so the window shows a frame as soon as it is ready."""
        self.source_spec = source
        self.on_frame = on_frame
        self.loop = loop
        self.message: str | None = "opening camera..."
        self.frames_read = 0
        self.detect_ms = 0.0  # time the last face search took
        self.liveness_ms = 0.0  # time the liveness check took on the last frame
        self._liveness = None  # a faceapp.liveness.passive.MotionCheck fed every frame
        self._latest: PreviewFrame | None = None
        self._lock = threading.Lock()
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

    def start_liveness(self, mode: str = "passive"):
        """A new liveness check (``passive`` or ``challenge``), fed every frame from the next
        one on; returned to be asked for its verdict and prompt (from any thread)."""
        from faceapp.liveness import make_check

        check = make_check(mode)
        with self._lock:
            self._liveness = check
        return check

    def stop_liveness(self) -> None:
        with self._lock:
            self._liveness = None

    # --- the thread ----------------------------------------------------------------

    def _run(self) -> None:
        try:
            source = FrameSource(self.source_spec, loop=self.loop)
            finder = FaceFinder(track=True)
        except Exception as error:  # noqa: BLE001 - the window must stay up whatever happens
            self.message = f"cannot open camera {self.source_spec}: {error}"
            return
        self.message = source.message
        interval = self._frame_interval(source)
        next_due = time.monotonic()
        with source:
            while not self._stop.is_set():
                frame = source.read()
                if frame is None:
                    self.message = source.message or "no frame"
                    finder.reset()
                    self._stop.wait(IDLE_SLEEP)
                    continue
                self.message = None
                prepared = self._prepare(frame, finder)
                if interval:  # hand frames over on the beat, whatever detection cost
                    next_due = max(next_due + interval, time.monotonic() - interval)
                    self._stop.wait(max(0.0, next_due - time.monotonic()))
                self._publish(prepared)

    def _frame_interval(self, source: FrameSource) -> float:
        """Seconds between frames for files and folders; 0 for webcams (read() blocks)."""
        if source.is_webcam:
            return 0.0
        if source.is_folder:
            return 1.0 / FOLDER_FPS
        return 1.0 / (source.frame_rate or DEFAULT_FPS)

    def _prepare(self, frame: np.ndarray, finder: FaceFinder) -> PreviewFrame:
        started = time.perf_counter()
        try:
            face = finder.find(frame)
        except Exception as error:  # noqa: BLE001 - a bad frame must not end the preview
            face, self.message = None, f"cannot search this frame: {error}"
        self.detect_ms = (time.perf_counter() - started) * 1000.0
        with self._lock:
            check = self._liveness
        if check is not None:
            started = time.perf_counter()
            check.add(frame, face)
            self.liveness_ms = (time.perf_counter() - started) * 1000.0
        self.frames_read += 1
        return PreviewFrame(np.ascontiguousarray(frame), face, self.frames_read, time.monotonic())

    def _publish(self, latest: PreviewFrame) -> None:
        with self._lock:
            self._latest = latest
        if self.on_frame is not None:
            self.on_frame()
