"""The window: live preview with the face box, capture keys, enrolment and verification.

Three things run at once and none waits on another:

* :class:`~faceapp.preview.FramePipeline` (a thread) reads the camera and finds the face
  box on a downscaled frame;
* this module's :class:`FaceApp` (the Kivy UI thread) uploads the newest frame to a
  texture with ``blit_buffer`` on every ``Clock`` tick, draws the box, and handles keys,
  buttons and sliders;
* :class:`faceapp.worker.InferenceWorker` (a separate process) owns TensorFlow: it loads
  the model, embeds the verification images and answers verification requests.

This process must never import TensorFlow (a Kivy window in a process that did segfaults
on Mesa), so nothing here imports ``faceapp.model``, ``faceapp.verify`` or keras.
Layout and colours are in ``faceapp.kv``.
"""

from __future__ import annotations

import itertools
import math
import os
import sys
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable

os.environ.setdefault("KIVY_NO_ARGS", "1")

from kivy.config import Config  # noqa: E402  (Config before the window is created)

Config.set("kivy", "exit_on_escape", "0")
Config.set("input", "mouse", "mouse,disable_multitouch")
# 960x560: the layout fits, and with software OpenGL (Xvfb) each redraw costs ~15 ms instead
# of ~21 ms at 1120x660 (measured; docs/benchmarks.md). Users can still resize the window.
Config.set("graphics", "width", "960")
Config.set("graphics", "height", "560")
# Frames are shown at the first UI frame after they arrive: at 120 UI frames per second a
# 30 fps video waits at most ~8 ms (at 60, up to 17 ms, which alone broke a 40 ms p95).
# Nothing is redrawn unless something changed, so idle frames cost next to nothing.
Config.set("graphics", "maxfps", "120")

from kivy.app import App  # noqa: E402
from kivy.clock import Clock  # noqa: E402
from kivy.core.window import Window  # noqa: E402
from kivy.graphics.texture import Texture  # noqa: E402
from kivy.properties import (  # noqa: E402
    BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty)
from kivy.uix.boxlayout import BoxLayout  # noqa: E402
from kivy.uix.widget import Widget  # noqa: E402

from faceapp.cli import AppOptions  # noqa: E402
from faceapp.decision import Decision, TimedVerification, frame_problem  # noqa: E402
from faceapp.errors import FaceappError, one_line  # noqa: E402
from faceapp.imaging import list_images  # noqa: E402
from faceapp.preview import CropResult, FramePipeline, PreviewFrame  # noqa: E402
from faceapp.storage import save_image  # noqa: E402

TRAIN_HINT = "no model yet: capture anchors (a) and positives (p), then run: python -m training.run"
NO_FACE_TEXT = "no face found, using centre box"
GREEN = (0.30, 0.85, 0.40, 1)
RED = (0.95, 0.30, 0.30, 1)
GREY = (0.80, 0.80, 0.80, 1)
AMBER = (1.00, 0.75, 0.20, 1)

# Keys (also shown on the buttons): key -> App method name.
KEY_ACTIONS = {
    "a": "capture_anchor",
    "p": "capture_positive",
    "e": "enrol",
    "v": "verify",
    "t": "verify_timed",
    "q": "quit",
}
ESCAPE = 27
SPINNER_PERIOD = 1 / 12   # seconds between steps of the busy spinner
FRAME_STALL_SECONDS = 0.1  # no frame for this long: the UI beat falls back to the Clock


WORKER_NICENESS = 10      # the inference process yields the CPU to the preview


def lower_priority(pid: int | None, niceness: int = WORKER_NICENESS) -> None:
    """Lower a just-started child's CPU priority (POSIX), so the preview keeps its frame
    rate while TensorFlow works; threads the child starts later inherit it."""
    if pid is None or not hasattr(os, "setpriority"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, pid, niceness)
    except OSError:
        pass


def process_started_at() -> float:
    """When this process was launched, on the ``time.monotonic()`` clock.

    ``$FACEAPP_LAUNCHED_AT`` (a monotonic time a launcher such as the benchmarks set just
    before starting us) when it is at most 30 s before our start; else our start time
    from /proc (Linux); else now.
    """
    started = _process_start_from_proc()
    try:
        launcher = float(os.environ["FACEAPP_LAUNCHED_AT"])
    except (KeyError, ValueError):
        return started
    return launcher if started - 30.0 <= launcher <= started else started


def _process_start_from_proc() -> float:
    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        started_since_boot = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - started_since_boot
        return time.monotonic() - max(0.0, age)
    except (OSError, ValueError, IndexError, AttributeError):
        return time.monotonic()


class CameraView(Widget):
    """The preview: the frame's texture fitted into the widget, and the face box on top."""

    texture = ObjectProperty(None, allownone=True)
    frame_size = ListProperty([640, 480])
    box = ListProperty([0, 0, 0, 0])          # x, y, width, height in frame pixels (y down)
    box_detected = BooleanProperty(False)
    image_rect = ListProperty([0, 0, 1, 1])   # where the frame is drawn, in window pixels
    box_rect = ListProperty([0, 0, 0, 0])     # the box, in window pixels (y up)

    def on_size(self, *_):
        self._layout()

    def on_pos(self, *_):
        self._layout()

    def on_frame_size(self, *_):
        self._layout()

    def on_box(self, *_):
        self._layout()

    def _layout(self) -> None:
        frame_w, frame_h = self.frame_size
        scale = min(self.width / max(frame_w, 1), self.height / max(frame_h, 1))
        width, height = frame_w * scale, frame_h * scale
        x0, y0 = self.x + (self.width - width) / 2, self.y + (self.height - height) / 2
        self.image_rect = [x0, y0, width, height]
        bx, by, bw, bh = self.box
        self.box_rect = [x0 + bx * scale, y0 + (frame_h - by - bh) * scale, bw * scale, bh * scale]

    def show(self, frame: PreviewFrame) -> None:
        """Upload ``frame`` to the texture (``blit_buffer``) and move the box."""
        height, width = frame.image.shape[:2]
        if self.texture is None or tuple(self.texture.size) != (width, height):
            texture = Texture.create(size=(width, height), colorfmt="rgb", bufferfmt="ubyte")
            texture.flip_vertical()   # OpenCV rows run top to bottom, OpenGL's bottom to top
            self.texture = texture
            self.frame_size = [width, height]
        self.texture.blit_buffer(memoryview(frame.image).cast("B"), colorfmt="bgr",
                                 bufferfmt="ubyte")
        self.box_detected = frame.detected
        box = frame.box
        self.box = [box.x, box.y, box.width, box.height]
        self.canvas.ask_update()


class FaceAppRoot(BoxLayout):
    """The root widget; its layout is the ``<FaceAppRoot>`` rule in faceapp.kv."""


class FaceApp(App):
    """The face-verification window. Behaviour here, layout in faceapp.kv."""

    title = "faceapp - face verification"

    status_text = StringProperty("starting...")
    overlay_text = StringProperty("opening camera...")
    result_text = StringProperty("")
    result_color = ListProperty(list(GREY))
    summary_text = StringProperty("Enrol with e, then verify with v.")
    counts_text = StringProperty("")
    model_text = StringProperty("")
    busy = BooleanProperty(False)
    busy_text = StringProperty("")
    spinner_angle = NumericProperty(0)
    detection_threshold = NumericProperty(0.5)
    verification_threshold = NumericProperty(0.5)
    timeout = NumericProperty(5.0)

    def __init__(self, options: AppOptions, on_ready: Callable[["FaceApp"], None] | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        self.options = options
        self.data_root = options.data_root
        self.timeout = options.timeout
        self._thresholds_touched = False
        self._push_thresholds = Clock.create_trigger(self._send_thresholds, 0.15)
        if options.detection_threshold is not None:
            self.detection_threshold = options.detection_threshold
        if options.verification_threshold is not None:
            self.verification_threshold = options.verification_threshold
        self._on_ready_hook = on_ready
        self._frame_ready = Clock.create_trigger(self._on_frame_ready)
        self.pipeline = FramePipeline(options.camera, loop=True, on_frame=self._frame_ready)
        self.worker = None                     # faceapp.worker.InferenceWorker, once started
        self.worker_state = "none"             # none | loading | ready | failed
        self.in_flight: int | None = None      # request id of the running verification
        self.timed: TimedVerification | None = None
        self.timed_waiting = False             # 't' pressed while the model was loading
        self.last_decision: Decision | None = None
        self.pending_actions: list[Callable[[], None]] = []  # key presses, see _service
        self.stopping = False
        self._crop_ids = itertools.count(1)
        self._crop_purposes: dict[int, str] = {}
        self._saver = ThreadPoolExecutor(max_workers=1, thread_name_prefix="capture-saver")
        self._saves: list[tuple[str, Future]] = []
        self._thresholds_touched = False     # flags are not "touched": see _threshold_for_worker
        # Measurements (read by faceapp.autopilot and the benchmarks).
        self.launched_at = process_started_at()
        self.first_frame_at: float | None = None
        self.ready_at: float | None = None
        self.frames_shown = 0
        self.frame_intervals: deque[float] = deque(maxlen=2000)
        self._last_frame_number = 0
        self._last_shown_at: float | None = None
        self._last_counts = 0.0
        self._last_spin = 0.0

    # --- Kivy life cycle ---------------------------------------------------------------

    def build(self):
        # Kivy has already loaded faceapp.kv (named after this class) and made its
        # root widget, FaceAppRoot, our root.
        Window.clearcolor = (0.11, 0.12, 0.14, 1)
        Window.bind(on_key_down=self._on_key_down)
        return self.root

    def on_start(self) -> None:
        self.pipeline.start()
        self.refresh_counts()
        self._start_worker_if_model()
        Clock.schedule_interval(self._tick, 1 / 60)
        if self._on_ready_hook is not None:
            self._on_ready_hook(self)

    def on_stop(self) -> None:
        self.stopping = True  # nothing below may start work again (_service checks)
        self.pending_actions.clear()
        self.pipeline.stop()
        if self.worker is not None:
            try:
                self.worker.stop()
            except Exception:  # noqa: BLE001 - quitting must always work
                pass
        self._saver.shutdown(wait=True)

    # --- keys and buttons ----------------------------------------------------------------

    def _on_key_down(self, _window, key, _scancode, codepoint, modifiers):
        if modifiers and ("ctrl" in modifiers or "alt" in modifiers or "meta" in modifiers):
            return False
        if key == ESCAPE:
            self.quit()
            return True
        char = (codepoint or (chr(key) if 0 < key < 256 else "")).lower()
        action = KEY_ACTIONS.get(char)
        if action is None:
            return False
        if action == "quit":
            self.quit()
            return True
        # Run with the next frame's UI work: its redraw is then the frame's redraw. With
        # software OpenGL a redraw holds the UI thread ~20 ms, which made the frame after
        # every key press late. The wait is at most one frame (or one Clock beat).
        self.pending_actions.append(getattr(self, action))
        return True

    def capture_anchor(self) -> None:
        self._request_crop("anchor")

    def capture_positive(self) -> None:
        self._request_crop("positive")

    def enrol(self) -> None:
        self._request_crop("verification_images")

    def verify(self) -> None:
        """Verify the face in the next frame (button Verify, key v)."""
        if not self._ready_to_verify():
            return
        self.busy, self.busy_text = True, "verifying..."
        self._request_crop("verify")

    def verify_timed(self) -> None:
        """Decide over the frames of up to ``timeout`` seconds (key t)."""
        if not self._ready_to_verify():
            return
        self.busy = True
        if self.worker_state == "loading":
            self.timed_waiting = True
            self.busy_text = "loading the model, then verifying..."
            return
        self._start_timed()

    def quit(self) -> None:
        self.status_text = "quitting..."
        self.stop()

    def on_detection_threshold(self, *_):
        self._thresholds_touched = True
        self._push_thresholds()

    def on_verification_threshold(self, *_):
        self._thresholds_touched = True
        self._push_thresholds()

    # --- the frame loop ------------------------------------------------------------------

    def _on_frame_ready(self, _dt: float) -> None:
        """A new frame (triggered from the frame thread): show it, then do the UI's other
        work in the same UI frame, so results and the frame cost one redraw, not two."""
        if self._show_latest_frame():
            self._service()

    def _tick(self, _dt: float) -> None:
        """The fallback beat: when no frame has come for a while (no camera, a stalled
        source), the UI's work runs here instead of with the frames."""
        if (self._last_shown_at is None
                or time.monotonic() - self._last_shown_at > FRAME_STALL_SECONDS):
            self._show_latest_frame()
            self._service()

    def _service(self) -> None:
        """Key actions, captures, worker events, the timed mode, the spinner, the counts."""
        while self.pending_actions and not self.stopping:
            self.pending_actions.pop(0)()
        if self.stopping:  # quitting: no new crops, saves or verifications
            return
        for result in self.pipeline.crops():
            self._on_crop(result)
        self._finish_saves()
        self._poll_worker()
        self._check_timed()
        now = time.monotonic()
        if self.busy and now - self._last_spin >= SPINNER_PERIOD:
            # Every redraw costs a whole window with software OpenGL: turn the spinner at
            # 12 Hz, not at the 60 Hz of this tick.
            self._last_spin = now
            self.spinner_angle = (self.spinner_angle + 30) % 360
        if now - self._last_counts > 2.0:
            self.refresh_counts()

    def _show_latest_frame(self) -> bool:
        """Upload the newest frame if it is new; True when it was."""
        frame = self.pipeline.latest()
        shown = False
        message = self.pipeline.message
        if frame is not None and frame.number != self._last_frame_number:
            self._last_frame_number = frame.number
            self.root.ids.camera.show(frame)
            now = time.monotonic()
            if self._last_shown_at is not None:
                self.frame_intervals.append(now - self._last_shown_at)
            else:
                self.first_frame_at = now
            self._last_shown_at = now
            self.frames_shown += 1
            shown = True
        if message:
            self.overlay_text = message
        elif frame is not None:
            self.overlay_text = "" if frame.detected else NO_FACE_TEXT
        return shown

    # --- captures --------------------------------------------------------------------------

    def _request_crop(self, purpose: str) -> None:
        crop_id = next(self._crop_ids)
        self._crop_purposes[crop_id] = purpose
        self.pipeline.request_crop(crop_id)

    def _on_crop(self, result: CropResult) -> None:
        purpose = self._crop_purposes.pop(result.tag, None)
        if purpose is None:
            return
        if result.crop is None:
            self.status_text = f"no frame to use: {result.message}"
            if purpose == "verify":
                self.busy = False
            elif purpose == "timed" and self.timed is not None:
                self.timed.skip("no frame")
                self._request_crop("timed")
            return
        if purpose == "verify":
            self._send_to_worker(result.crop.image)
        elif purpose == "timed":
            self._on_timed_crop(result)
        else:
            folder = getattr(self.data_root, purpose)
            self._saves.append((purpose, self._saver.submit(save_image, result.crop.image, folder)))
            if not result.crop.detected:
                self.status_text = f"saving the centre box ({NO_FACE_TEXT})..."

    def _finish_saves(self) -> None:
        still_running = []
        for purpose, future in self._saves:
            if not future.done():
                still_running.append((purpose, future))
                continue
            try:
                path = future.result()
            except (FaceappError, OSError) as error:
                self.status_text = f"could not save the {purpose} image: {one_line(error)}"
            else:
                label = {"anchor": "anchor", "positive": "positive",
                         "verification_images": "verification image"}[purpose]
                self.status_text = f"saved {label}: {path.name}"
            self.refresh_counts()
        self._saves = still_running

    def refresh_counts(self) -> None:
        self._last_counts = time.monotonic()
        counts = self.counts()
        self.counts_text = (f"anchors: {counts['anchor']}    positives: {counts['positive']}\n"
                            f"verification images: {counts['verification_images']}")

    def counts(self) -> dict[str, int]:
        result = {}
        for name in ("anchor", "positive", "verification_images"):
            try:
                result[name] = len(list_images(getattr(self.data_root, name)))
            except FaceappError:
                result[name] = 0
        return result

    # --- verification ----------------------------------------------------------------------

    def model_path(self) -> Path | None:
        return self.options.model or self.data_root.newest_model()

    def _start_worker_if_model(self) -> bool:
        """Start the inference worker when there is a model; say how to train one if not."""
        if self.worker is not None:
            return True
        model = self.model_path()
        if model is None:
            self.model_text = f"model: none in {self.data_root.models}"
            return False
        try:
            from faceapp.worker import InferenceWorker
        except ImportError as error:
            self.model_text = f"verification unavailable: {one_line(error)}"
            return False
        self.model_text = f"model: {model.name} (loading...)"
        self.worker = InferenceWorker(
            # None without --model: the worker takes the newest model each time it loads,
            # so a model trained after a failed load (or before a restart) is picked up
            self.data_root, model_path=self.options.model,
            detection_threshold=self._threshold_for_worker("detection"),
            verification_threshold=self._threshold_for_worker("verification"),
            runtime=self.options.runtime,
        )
        self.worker_state = "loading"
        self.busy, self.busy_text = True, "loading the model..."
        self.worker.start()
        lower_priority(self.worker.pid)
        return True

    def _threshold_for_worker(self, which: str) -> float | None:
        """The slider's value if the user set it (flag or slider), else None (model decides)."""
        flag = getattr(self.options, f"{which}_threshold")
        if flag is not None or self._thresholds_touched:
            return float(getattr(self, f"{which}_threshold"))
        return None

    def _ready_to_verify(self) -> bool:
        if self.in_flight is not None or self.timed is not None or self.timed_waiting \
                or "verify" in self._crop_purposes.values():
            self.status_text = "a verification is already running"
            return False
        if not self._start_worker_if_model():
            self._show_result("No model", TRAIN_HINT, GREY)
            return False
        if self.counts()["verification_images"] == 0:
            self._show_result("Not enrolled", "no verification images yet: press e to enrol "
                              "your face first", GREY)
            return False
        return True

    def _send_to_worker(self, face) -> None:
        """Send a crop; the worker queues it until its model is loaded (or retries loading)."""
        if self.worker is None:
            self.busy = False
            return
        self.in_flight = self.worker.verify(face)
        self.busy = True
        if self.worker_state != "ready":
            self.busy_text = "loading the model, then verifying..."
        elif self.timed is None:
            self.busy_text = "verifying..."

    def _send_thresholds(self, *_):
        if self.worker is not None:
            self.worker.set_thresholds(detection=float(self.detection_threshold),
                                       verification=float(self.verification_threshold))

    def _poll_worker(self) -> None:
        if self.worker is None:
            return
        try:
            events = self.worker.poll()
        except Exception as error:  # noqa: BLE001 - a broken pipe must not close the window
            events = []
            self.status_text = f"inference worker: {one_line(error)}"
        for event in events:
            handler = getattr(self, f"_on_worker_{event.kind}", None)
            if handler is not None:
                handler(event)

    def _on_worker_loading(self, event) -> None:
        self.busy, self.busy_text = True, event.message or "loading the model..."

    def _on_worker_ready(self, event) -> None:
        self.worker_state = "ready"
        if self.ready_at is None:
            self.ready_at = time.monotonic()
        info = event.info or {}
        model = Path(str(info.get("model") or self.model_path() or "")).name
        gallery = info.get("gallery_size")
        self.model_text = f"model: {model}" + (f" ({gallery} verification images)"
                                               if gallery is not None else "")
        touched = self._thresholds_touched
        for which in ("detection", "verification"):
            value = info.get(f"{which}_threshold")
            if value is not None and getattr(self.options, f"{which}_threshold") is None \
                    and not touched:
                setattr(self, f"{which}_threshold", float(value))
        self._thresholds_touched = touched
        self.status_text = event.message or "model ready"
        if self.timed_waiting:
            self.timed_waiting = False
            self._start_timed()
        elif self.in_flight is None and "verify" not in self._crop_purposes.values():
            self.busy = False

    def _on_worker_result(self, event) -> None:
        if event.request_id != self.in_flight or event.decision is None:
            return
        self.in_flight = None
        decision: Decision = event.decision
        self.last_decision = decision
        if self.timed is not None:
            self.timed.add(decision)
            if self.timed.done:
                self._finish_timed()
            else:
                self._request_crop("timed")
            return
        self.busy = False
        self._show_decision(decision)
        self.status_text = event.message or decision.summary()

    def _on_worker_error(self, event) -> None:
        message = event.message or "the inference worker reported an error"
        self.status_text = message
        if event.request_id is not None and event.request_id != self.in_flight:
            return
        if event.request_id is None and self.worker_state == "loading":
            self.worker_state = "failed"         # e.g. the model could not be loaded
            self.model_text = message
            if self.in_flight is not None:
                return                           # the worker retries loading for it
        self._abandon_verification("Error", message)

    def _on_worker_died(self, event) -> None:
        message = event.message or "the inference worker stopped"
        self.worker_state = "loading"
        self._abandon_verification("Error", f"{message}; restarting it")
        self.status_text = f"{message}; restarting it..."
        self.model_text = "restarting the inference worker..."
        self.busy, self.busy_text = True, "restarting the model..."
        self.worker.restart()
        lower_priority(self.worker.pid)

    def _abandon_verification(self, label: str, message: str) -> None:
        was_running = (self.in_flight is not None or self.timed is not None
                       or self.timed_waiting)
        self.in_flight = None
        self.timed = None
        self.timed_waiting = False
        self.busy = False
        if was_running:
            self._show_result(label, message, RED)

    # --- verify for up to N seconds ----------------------------------------------------------

    def _start_timed(self) -> None:
        self.timed = TimedVerification(float(self.timeout))
        self.busy, self.busy_text = True, f"verifying for up to {self.timeout:g} s..."
        self._request_crop("timed")

    def _on_timed_crop(self, result: CropResult) -> None:
        timed = self.timed
        if timed is None:
            return
        if timed.done:
            self._finish_timed()
            return
        crop = result.crop
        problem = "no face" if not crop.detected else frame_problem(crop.image)
        if problem:
            timed.skip(problem)
            self.busy_text = f"verifying for up to {self.timeout:g} s... ({problem})"
            self._request_crop("timed")
            return
        self._send_to_worker(crop.image)

    def _check_timed(self) -> None:
        if self.timed is not None and self.in_flight is None and self.timed.done:
            self._finish_timed()

    def _finish_timed(self) -> None:
        timed, self.timed = self.timed, None
        self.busy = False
        outcome = timed.outcome()
        if outcome is None:
            self._show_result("Unverified", f"no face could be judged: {timed.explain()}", RED)
        else:
            self.last_decision = outcome
            self._show_decision(outcome, extra=timed.explain())
        self.status_text = f"timed verification: {timed.explain()}"

    # --- showing results ---------------------------------------------------------------------

    def _show_decision(self, decision: Decision, extra: str = "") -> None:
        summary = decision.summary()
        self._show_result(decision.label, summary + (f"\n{extra}" if extra else ""),
                          GREEN if decision.verified else RED)

    def _show_result(self, label: str, summary: str, color) -> None:
        self.result_text = label
        self.summary_text = summary
        self.result_color = list(color)

    # --- state for tests and benchmarks ------------------------------------------------------

    def snapshot(self) -> dict:
        """What the window shows, and the preview's timings (see faceapp.autopilot)."""
        intervals = sorted(self.frame_intervals)

        def percentile(q: float) -> float | None:
            if not intervals:
                return None
            return intervals[min(len(intervals) - 1, math.ceil(q * len(intervals)) - 1)]

        def since_launch(moment: float | None) -> float | None:
            return None if moment is None else moment - self.launched_at

        return {
            "status": self.status_text,
            "overlay": self.overlay_text,
            "result": self.result_text,
            "summary": self.summary_text,
            "model": self.model_text,
            "counts": self.counts(),
            "busy": self.busy,
            "busy_text": self.busy_text,
            "worker_state": self.worker_state,
            "detection_threshold": float(self.detection_threshold),
            "verification_threshold": float(self.verification_threshold),
            "decision": self.last_decision.to_dict() if self.last_decision else None,
            "frames_shown": self.frames_shown,
            "frames_read": self.pipeline.frames_read,
            "ui_fps": Clock.get_fps(),
            "detect_ms": self.pipeline.detect_ms,
            "frame_interval_p50_ms": None if not intervals else 1000 * percentile(0.5),
            "frame_interval_p95_ms": None if not intervals else 1000 * percentile(0.95),
            "first_frame_s": since_launch(self.first_frame_at),
            "ready_s": since_launch(self.ready_at),
            "tensorflow_imported": "tensorflow" in sys.modules or "keras" in sys.modules,
        }


def run_app(options: AppOptions, on_ready: Callable[[FaceApp], None] | None = None) -> int:
    """Open the window and run until it is closed; 0 when it closed normally."""
    FaceApp(options, on_ready=on_ready).run()
    return 0
