"""The window: widgets wired to the session, the frame pipeline and the capture saver.

Three things run at once and none waits on another:

* :class:`~faceapp.app.preview.FramePipeline` (a thread) reads the camera and finds the face in
  every frame;
* this module's :class:`FaceApp` (the Kivy UI thread) uploads the newest frame to a texture
  with ``blit_buffer``, draws the face box, and forwards keys, buttons and sliders;
* :class:`faceapp.app.worker.InferenceWorker` (a separate process) runs the model.

The behaviour lives outside the widget tree: :class:`faceapp.app.session.Session` (verification,
the worker's life, thresholds) and :class:`faceapp.app.captures.CaptureSaver` (captures). This
process never imports TensorFlow (a Kivy window in a process that did segfaults on Mesa).
Layout and colours are in ``faceapp.kv``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

os.environ.setdefault("KIVY_NO_ARGS", "1")

from kivy.config import Config  # noqa: E402  (Config before the window is created)

Config.set("kivy", "exit_on_escape", "0")
Config.set("input", "mouse", "mouse,disable_multitouch")
# 960x560: the layout fits, and with software OpenGL (Xvfb) a smaller window redraws faster
# (docs/benchmarks.md). Users can still resize the window.
Config.set("graphics", "width", "960")
Config.set("graphics", "height", "560")
# Frames are shown at the first UI frame after they arrive: at 120 UI frames per second a
# 30 fps video waits at most ~8 ms. Nothing is redrawn unless something changed, so idle
# frames cost next to nothing.
Config.set("graphics", "maxfps", "120")

from kivy.app import App  # noqa: E402
from kivy.clock import Clock  # noqa: E402
from kivy.core.window import Window  # noqa: E402
from kivy.graphics.texture import Texture  # noqa: E402
from kivy.properties import (  # noqa: E402
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout  # noqa: E402
from kivy.uix.widget import Widget  # noqa: E402

from faceapp.app.captures import CaptureSaver  # noqa: E402
from faceapp.app.options import AppOptions  # noqa: E402
from faceapp.app.preview import FramePipeline, PreviewFrame  # noqa: E402
from faceapp.app.session import Session, Settings, Tone, enrolled  # noqa: E402

NO_FACE_TEXT = "no face found: the centre box is used"
NO_LANDMARKS_TEXT = "face found, landmarks not: the crop is not aligned"
TONE_COLORS = {
    Tone.GOOD: (0.30, 0.85, 0.40, 1),
    Tone.BAD: (0.95, 0.30, 0.30, 1),
    Tone.NEUTRAL: (0.80, 0.80, 0.80, 1),
}

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
SPINNER_PERIOD = 1 / 12  # seconds between steps of the busy spinner
FRAME_STALL_SECONDS = 0.1  # no frame for this long: the UI beat falls back to the Clock
COUNTS_PERIOD = 2.0  # seconds between re-counts of the capture folders
ENROLLED_SHOWN = 10  # the newest enrolled faces shown over the preview
WORKER_NICENESS = 10  # the inference process yields the CPU to the preview


def lower_priority(pid: int | None, niceness: int = WORKER_NICENESS) -> None:
    """Lower a just-started child's CPU priority (POSIX), so the preview keeps its frame
    rate while the model works; threads the child starts later inherit it."""
    if pid is None or not hasattr(os, "setpriority"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, pid, niceness)
    except OSError:
        pass


class CameraView(Widget):
    """The preview: the frame's texture fitted into the widget, and the face box on top."""

    texture = ObjectProperty(None, allownone=True)
    frame_size = ListProperty([640, 480])
    box = ListProperty([0, 0, 0, 0])  # x, y, width, height in frame pixels (y down)
    box_detected = BooleanProperty(False)
    image_rect = ListProperty([0, 0, 1, 1])  # where the frame is drawn, in window pixels
    box_rect = ListProperty([0, 0, 0, 0])  # the box, in window pixels (y up)

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
            texture.flip_vertical()  # OpenCV rows run top to bottom, OpenGL's bottom to top
            self.texture = texture
            self.frame_size = [width, height]
        self.texture.blit_buffer(
            memoryview(frame.image).cast("B"),  # type: ignore[arg-type]
            colorfmt="bgr",
            bufferfmt="ubyte",
        )
        self.box_detected = frame.face is not None
        box = frame.box
        self.box = [box.x, box.y, box.width, box.height]
        self.canvas.ask_update()


class FaceAppRoot(BoxLayout):
    """The root widget; its layout is the ``<FaceAppRoot>`` rule in faceapp.kv."""


class FaceApp(App):
    """The face-verification window: what it shows comes from :attr:`session`'s view."""

    title = "faceapp - face verification"

    status_text = StringProperty("starting...")
    overlay_text = StringProperty("opening camera...")
    prompt_text = StringProperty("")  # a liveness challenge's instruction
    result_text = StringProperty("")
    result_color = ListProperty(list(TONE_COLORS[Tone.NEUTRAL]))
    summary_text = StringProperty("")
    counts_text = StringProperty("")
    model_text = StringProperty("")
    rule = StringProperty("vote")  # the model's rule ("centroid" or "vote")
    busy = BooleanProperty(False)
    busy_text = StringProperty("")
    spinner_angle = NumericProperty(0)
    detection_threshold = NumericProperty(0.5)
    verification_threshold = NumericProperty(0.5)
    timeout = NumericProperty(5.0)

    def __init__(
        self,
        options: AppOptions,
        worker=None,
        on_ready: Callable[[FaceApp], None] | None = None,
        **kwargs,
    ):
        """``worker``: an :class:`~faceapp.app.worker.InferenceWorker` already started (it loads
        the model while the window opens); None starts one with the window."""
        super().__init__(**kwargs)
        self.options = options
        self.on_ready_hook = on_ready
        self.timeout = options.timeout
        self.pipeline = FramePipeline(
            options.camera, loop=True, on_frame=Clock.create_trigger(self._on_frame_ready)
        )
        self.session = Session(
            Settings(
                options.data_root,
                options.timeout,
                options.detection_threshold,
                options.verification_threshold,
                options.liveness,
            ),
            make_worker=self._make_worker,
            worker=worker,
            on_worker_started=lambda started: lower_priority(started.pid),
            start_liveness=self.pipeline.start_liveness,
            stop_liveness=self.pipeline.stop_liveness,
        )
        self.saver = CaptureSaver(options.data_root)
        self.pending_actions: list[Callable[[], None]] = []  # key presses, see _service
        self.frame_listeners: list[Callable[[PreviewFrame], None]] = []  # autopilot timing
        self.stopping = False
        self.frames_shown = 0
        self._last_frame_number = 0
        self._last_shown_at: float | None = None
        self._last_counts = 0.0
        self._enrolled_shown: tuple = ()
        self._last_spin = 0.0
        self._sync_view()

    def _make_worker(self, detection: float | None, verification: float | None):
        from faceapp.app.worker import InferenceWorker

        return InferenceWorker(
            # None without --model: the worker takes the newest model each time it loads,
            # so a model trained after a failed load (or before a restart) is picked up
            self.options.data_root,
            model_path=self.options.model,
            detection_threshold=detection,
            verification_threshold=verification,
            runtime=self.options.runtime,
            security=self.options.security,
        )

    # --- Kivy life cycle ---------------------------------------------------------------

    def build(self):
        # Kivy has already loaded faceapp.kv (named after this class) and made its
        # root widget, FaceAppRoot, our root.
        Window.clearcolor = (0.11, 0.12, 0.14, 1)
        Window.bind(on_key_down=self._on_key_down)
        return self.root

    def on_start(self) -> None:
        self.pipeline.start()
        self.session.start()
        self.refresh_counts()
        Clock.schedule_interval(self._tick, 1 / 60)
        if self.on_ready_hook is not None:
            self.on_ready_hook(self)

    def on_stop(self) -> None:
        self.stopping = True  # nothing below may start work again (_service checks)
        self.pending_actions.clear()
        self.pipeline.stop()
        self.session.stop()
        self.saver.shutdown()

    # --- keys, buttons, sliders ----------------------------------------------------------

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
        # Run with the next frame's UI work: its redraw is then the frame's redraw (with
        # software OpenGL a redraw holds the UI thread for many milliseconds).
        self.pending_actions.append(getattr(self, action))
        return True

    def capture_anchor(self) -> None:
        self._capture("anchor")

    def capture_positive(self) -> None:
        self._capture("positive")

    def enrol(self) -> None:
        self._capture("enrol")

    def verify(self) -> None:
        """Verify the face in the newest frame (button Verify, key v)."""
        self.session.verify(self.pipeline.latest())
        self._sync_view()

    def verify_timed(self) -> None:
        """Decide over the frames of up to ``timeout`` seconds (key t)."""
        self.session.verify_timed()
        self._sync_view()

    def quit(self) -> None:
        self.status_text = "quitting..."
        self.stop()

    def on_detection_threshold(self, _app, value):
        self.session.set_threshold("detection", value)

    def on_verification_threshold(self, _app, value):
        self.session.set_threshold("verification", value)

    def _capture(self, kind: str) -> None:
        self.session.view.status = self.saver.save(kind, self.pipeline.latest())
        self._sync_view()

    # --- the frame loop ------------------------------------------------------------------

    def _on_frame_ready(self, _dt: float) -> None:
        """A new frame (triggered from the frame thread): show it, then do the UI's other
        work in the same UI frame, so results and the frame cost one redraw, not two."""
        if self._show_latest_frame():
            self._service()

    def _tick(self, _dt: float) -> None:
        """The fallback beat: when no frame has come for a while (no camera, a stalled
        source), the UI's work runs here instead of with the frames."""
        if (
            self._last_shown_at is None
            or time.monotonic() - self._last_shown_at > FRAME_STALL_SECONDS
        ):
            self._show_latest_frame()
            self._service()

    def _service(self) -> None:
        """Key actions, finished saves, the session's work, the spinner, the counts."""
        while self.pending_actions and not self.stopping:
            self.pending_actions.pop(0)()
        if self.stopping:  # quitting: no new saves or verifications
            return
        finished = self.saver.finished()
        if finished:
            self.session.view.status = finished[-1]
            self.refresh_counts()
        self.session.tick(self.pipeline.latest())
        self._sync_view()
        now = time.monotonic()
        if self.busy and now - self._last_spin >= SPINNER_PERIOD:
            # every redraw costs a whole window with software OpenGL: turn the spinner at
            # 12 Hz, not at the 60 Hz of this tick
            self._last_spin = now
            self.spinner_angle = (self.spinner_angle + 30) % 360
        if now - self._last_counts > COUNTS_PERIOD:
            self.refresh_counts()

    def _show_latest_frame(self) -> bool:
        """Upload the newest frame if it is new; True when it was."""
        frame = self.pipeline.latest()
        shown = False
        if frame is not None and frame.number != self._last_frame_number:
            self._last_frame_number = frame.number
            self.root.ids.camera.show(frame)
            self._last_shown_at = time.monotonic()
            self.frames_shown += 1
            for listener in self.frame_listeners:
                listener(frame)
            shown = True
        message = self.pipeline.message
        if message:
            self.overlay_text = message
        elif frame is not None:
            self.overlay_text = self._face_notice(frame)
        return shown

    @staticmethod
    def _face_notice(frame: PreviewFrame) -> str:
        if frame.face is None:
            return NO_FACE_TEXT
        return "" if frame.face.landmarks is not None else NO_LANDMARKS_TEXT

    def _sync_view(self) -> None:
        """Copy the session's view into the widgets' properties."""
        view = self.session.view
        self.status_text = view.status
        self.result_text = view.result
        self.summary_text = view.summary
        self.result_color = list(TONE_COLORS[view.tone])
        self.busy = view.busy
        self.busy_text = view.busy_text
        self.model_text = view.model
        self.prompt_text = view.prompt
        self.rule = view.rule
        # the sliders follow the view (the model's thresholds once it is loaded); setting
        # them calls on_*_threshold, which the session ignores when nothing changed
        self.detection_threshold = view.detection_threshold
        self.verification_threshold = view.verification_threshold

    def refresh_counts(self) -> None:
        self._last_counts = time.monotonic()
        counts = self.counts()
        self.counts_text = (
            f"enrolled faces: {counts['verification_images']}    anchors: {counts['anchor']}"
            f"    positives: {counts['positive']}"
        )
        self.refresh_enrolled()

    def refresh_enrolled(self) -> None:
        """The strip of enrolled faces over the preview: rebuilt only when they changed."""
        from kivy.factory import Factory

        from faceapp.verification.enrolment import enrolled_faces

        faces = enrolled_faces(self.options.data_root)[-ENROLLED_SHOWN:]
        shown = (tuple(f.name for f in faces), self.session.armed)
        if shown == self._enrolled_shown:
            return
        self._enrolled_shown = shown
        strip = self.root.ids.enrolled_strip
        strip.clear_widgets()
        for face in faces:
            armed = face.name == self.session.armed
            # its kv properties exist once it is made
            thumb = Factory.ArmedThumb() if armed else Factory.EnrolledThumb()
            thumb.name = face.name
            thumb.source = str(face.path)
            strip.add_widget(thumb)

    def tap_enrolled(self, name: str) -> None:
        """A thumbnail of the strip was tapped (see :meth:`Session.tap_enrolled`)."""
        self.session.tap_enrolled(name)
        self._sync_view()
        self.refresh_counts()

    def counts(self) -> dict[str, int]:
        from faceapp.errors import FaceappError
        from faceapp.vision.imaging import list_images

        root = self.options.data_root
        result = {"verification_images": enrolled(root)}
        for name in ("anchor", "positive"):
            try:
                result[name] = len(list_images(getattr(root, name)))
            except FaceappError:
                result[name] = 0
        return result


def run_app(
    options: AppOptions, worker=None, on_ready: Callable[[FaceApp], None] | None = None
) -> int:
    """Open the window and run until it is closed; 0 when it closed normally."""
    FaceApp(options, worker, on_ready=on_ready).run()
    return 0
