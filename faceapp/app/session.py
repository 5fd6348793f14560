"""The verification session: the window's logic without the window.

A :class:`Session` owns the inference worker's life (start, events, restart after a crash),
the two verification modes (``v``: this frame; ``t``: frames for up to ``timeout`` seconds)
and the thresholds, and keeps what the window should show in :class:`View`. The Kivy app
(:mod:`faceapp.app.window`) only forwards keys and frames to it and copies :attr:`Session.view`
into its widgets, so everything here is tested without a window (tests/test_session.py).

Frames come from the caller as :class:`faceapp.app.preview.PreviewFrame` (the image, the face
found in it, a number); a mode that needs a new frame takes the newest one it has not used.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from types import SimpleNamespace
from typing import Protocol

from faceapp.errors import FaceappError, one_line
from faceapp.paths import DataRoot
from faceapp.verification.rule import Decision, parse_threshold
from faceapp.verification.timed import TimedVerification
from faceapp.vision.imaging import list_images

ONE_FRAME_NOTE = "one frame: liveness not checked (t checks it)"
REMOVE_WINDOW = 5.0  # seconds within which a second tap on an enrolled face removes it
# A worker that keeps dying (a model that crashes LiteRT, memory exhausted) is restarted after
# a growing pause, then given up on with one line: restarting it forever would spin a core
# and hide the reason behind an ever-changing status.
RESTART_DELAYS = (0.0, 2.0, 8.0)  # seconds before the 1st, 2nd, 3rd restart in a row
RESTARTS_FORGIVEN_AFTER = 60.0  # a worker that lived this long since the last death: count anew


class WorkerState(Enum):
    NOT_STARTED = "not started"
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


class Tone(Enum):
    """How a result reads: the window colours it."""

    GOOD = "good"
    BAD = "bad"
    NEUTRAL = "neutral"


@dataclass
class View:
    """Everything the window shows besides the preview."""

    status: str = "starting..."
    prompt: str = ""  # what a liveness challenge asks the user to do now, shown large
    result: str = ""
    summary: str = "Enrol with e, then verify with v."
    tone: Tone = Tone.NEUTRAL
    busy: bool = False
    busy_text: str = ""
    model: str = ""
    rule: str = "vote"  # the model's rule: under "centroid" the verification slider is idle
    detection_threshold: float = 0.5
    verification_threshold: float = 0.5


class Worker(Protocol):  # faceapp.app.worker.InferenceWorker, or a stand-in in tests
    pid: int | None

    def start(self) -> None: ...
    def restart(self) -> None: ...
    def stop(self) -> None: ...
    def verify(self, frame, face=None, searched: bool = False, judge: bool = False) -> int: ...
    def poll(self) -> list: ...
    def set_thresholds(
        self, detection: float | None = None, verification: float | None = None
    ) -> None: ...


@dataclass
class Settings:
    """What the session needs from the command line."""

    data_root: DataRoot
    timeout: float
    detection_threshold: float | None = None  # a flag, or None: the model's
    verification_threshold: float | None = None
    liveness: str = "passive"  # faceapp.liveness.LIVENESS_MODES


@dataclass
class Session:
    settings: Settings
    make_worker: Callable[[float | None, float | None], Worker]
    clock: Callable[[], float] = time.monotonic
    # starts a liveness check fed every frame (the preview's), returns it; None: no frames
    start_liveness: Callable[[str], object] | None = None  # (mode) -> a check
    stop_liveness: Callable[[], None] = lambda: None
    on_worker_started: Callable[[Worker], None] = lambda worker: None

    view: View = field(default_factory=View)
    state: WorkerState = WorkerState.NOT_STARTED
    worker: Worker | None = None
    in_flight: int | None = None  # request id of the running verification
    timed: TimedVerification | None = None
    timed_waiting: bool = False  # 't' pressed while the model was loading
    last_decision: Decision | None = None
    model_name: str = ""
    rule_named: str = ""  # e.g. "security standard", as the worker names it
    ready_at: float | None = None
    thresholds_touched: bool = False  # the user moved a slider
    restarts: int = 0  # how often the worker died and was started again
    armed: str | None = None  # the enrolled face tapped once, to be removed by a second tap
    _armed_at: float = 0.0
    _death: str | None = None  # why it last died, until the next "ready" has said so
    _deaths_in_row: int = 0
    _last_death_at: float | None = None
    _restart_at: float | None = None  # when the paused restart is due
    _gave_up: bool = False  # it died too often: not restarted again
    _last_frame_used: int = 0

    def __post_init__(self):
        for which in ("detection", "verification"):
            flag = getattr(self.settings, f"{which}_threshold")
            if flag is not None:
                setattr(self.view, f"{which}_threshold", float(flag))

    # --- the worker ---------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker (or take over the one already started): there is always a
        model, at least the shipped one."""
        if self.state is not WorkerState.NOT_STARTED:
            return
        if self.worker is None:
            self.worker = self.make_worker(
                self._threshold_for_worker("detection"), self._threshold_for_worker("verification")
            )
        self.state = WorkerState.LOADING
        self.view.busy, self.view.busy_text = True, "loading the model..."
        self.view.model = "model: loading..."
        self.worker.start()
        self.on_worker_started(self.worker)

    def stop(self) -> None:
        if self.worker is not None:
            try:
                self.worker.stop()
            except Exception:  # noqa: BLE001 - quitting must always work
                pass

    def _touched(self) -> bool:
        """Whether the user set the match threshold (a flag or a slider)."""
        return self.thresholds_touched or self.settings.detection_threshold is not None

    def _threshold_for_worker(self, which: str) -> float | None:
        """The slider's value if the user set it (flag or slider), else None (model's)."""
        if getattr(self.settings, f"{which}_threshold") is not None or self.thresholds_touched:
            return float(getattr(self.view, f"{which}_threshold"))
        return None

    def set_threshold(self, which: str, value: float) -> None:
        """A slider moved (``which``: detection or verification)."""
        value = parse_threshold(value, f"{which} threshold")
        if getattr(self.view, f"{which}_threshold") == value:
            return
        setattr(self.view, f"{which}_threshold", value)
        self.thresholds_touched = True
        if self.worker is not None:
            self.worker.set_thresholds(
                detection=self.view.detection_threshold,
                verification=self.view.verification_threshold,
            )

    # --- the two modes --------------------------------------------------------------------

    @property
    def verifying(self) -> bool:
        return self.in_flight is not None or self.timed is not None or self.timed_waiting

    def verify(self, frame) -> None:
        """Verify the face in ``frame`` (key v; None: no frame yet). One frame cannot show
        whether a face is live: that is the timed mode's (key t)."""
        if not self._ready_to_verify():
            return
        if frame is None:
            self.view.status = "no frame to use: waiting for the camera"
            return
        self._last_frame_used = frame.number
        self._send(frame)

    def verify_timed(self) -> None:
        """Decide over the frames of up to ``timeout`` seconds (key t)."""
        if not self._ready_to_verify():
            return
        self.view.busy = True
        if self.state is WorkerState.LOADING:
            self.timed_waiting = True
            self.view.busy_text = "loading the model, then verifying..."
            return
        self._start_timed()

    def _ready_to_verify(self) -> bool:
        if self.verifying:
            self.view.status = "a verification is already running"
            return False
        if self._restart_at is not None:  # a paused restart: the worker is not there yet
            self.view.status = "the inference worker is restarting: try again in a moment"
            return False
        if self._gave_up:  # keep the one line that says why
            return False
        self.start()
        if enrolled(self.settings.data_root) == 0:
            self._show(
                "Not enrolled",
                "no verification images yet: press e to enrol your face first",
                Tone.NEUTRAL,
            )
            return False
        return True

    def _send(self, frame) -> None:
        """Send a frame; the worker queues it until its model is loaded."""
        assert self.worker is not None  # started by _ready_to_verify
        self.in_flight = self.worker.verify(
            frame.image, frame.face, searched=True, judge=self.timed is not None
        )
        self.view.busy = True
        if self.state is not WorkerState.READY:
            self.view.busy_text = "loading the model, then verifying..."
        elif self.timed is None:
            self.view.busy_text = "verifying..."

    def _start_timed(self) -> None:
        timeout = self.settings.timeout
        check = None
        if self.settings.liveness != "off" and self.start_liveness is not None:
            check = self.start_liveness(self.settings.liveness)
        self.timed = TimedVerification(timeout, clock=self.clock, liveness=check)
        self.view.busy, self.view.busy_text = True, self._timed_text()

    def _timed_text(self, problem: str = "") -> str:
        if self.view.prompt:  # a challenge asks: its instruction is the whole text
            return self.view.prompt
        text = f"verifying for up to {self.settings.timeout:g} s"
        if self.timed is not None and self.timed.liveness is not None:
            text += ": move your head a little"
        return text + (f"... ({problem})" if problem else "...")

    # --- the enrolled faces ---------------------------------------------------------------

    def tap_enrolled(self, name: str) -> bool:
        """An enrolled face was tapped: the first tap asks, a second within
        :data:`REMOVE_WINDOW` seconds removes it (with its record); True when removed."""
        from faceapp.verification import enrolment

        now = self.clock()
        if self.armed == name and now - self._armed_at <= REMOVE_WINDOW:
            self.armed = None
            try:
                removed = enrolment.remove(self.settings.data_root, name)
            except FaceappError as error:
                self.view.status = f"could not remove {name}: {one_line(error)}"
                return False
            self.view.status = f"removed the enrolled face {removed.describe()}"
            return True
        self.armed, self._armed_at = name, now
        faces = enrolment.enrolled_faces(self.settings.data_root)
        described = next((f.describe() for f in faces if f.name == name), name)
        self.view.status = f"tap it again to remove {described}"
        return False

    # --- every UI frame -------------------------------------------------------------------

    def tick(self, latest) -> None:
        """Handle the worker's events and feed the timed mode the newest frame (``latest``,
        or None when there is none)."""
        self._poll_worker()
        timed = self.timed
        self.view.prompt = getattr(timed.liveness, "prompt", "") if timed is not None else ""
        if timed is None:
            return
        if timed.done:
            if self.in_flight is None:
                self._finish_timed()
            return
        if (
            timed.identity_decided
            or self.in_flight is not None
            or latest is None
            or latest.number <= self._last_frame_used
        ):
            return  # (the liveness check, fed by the preview, may still be watching)
        self._last_frame_used = latest.number
        self._send(latest)

    def _poll_worker(self) -> None:
        if self.worker is None:
            return
        if self._restart_at is not None and self.clock() >= self._restart_at:
            self._restart_worker()
        try:
            events = self.worker.poll()
        except Exception as error:  # noqa: BLE001 - a broken pipe must not close the window
            events = []
            self.view.status = f"inference worker: {one_line(error)}"
        for event in events:
            handler = getattr(self, f"_on_{event.kind}", None)
            if handler is not None:
                handler(event)

    def _on_loading(self, event) -> None:
        self.view.busy, self.view.busy_text = True, event.message or "loading the model..."

    def _on_ready(self, event) -> None:
        self.state = WorkerState.READY
        if self.ready_at is None:
            self.ready_at = self.clock()
        info = event.info or {}
        self.model_name = info.get("model", "?")
        self.rule_named = info.get("rule_named", "")
        self.view.rule = info.get("rule", "vote")
        self._show_model(info.get("gallery_size"))
        if not self.thresholds_touched:
            for which in ("detection", "verification"):
                value = info.get(f"{which}_threshold")
                if value is not None and getattr(self.settings, f"{which}_threshold") is None:
                    setattr(self.view, f"{which}_threshold", float(value))
        self.view.status = event.message or "model ready"
        if self._death:  # a restart is quick: say why it happened, or the user never sees it
            self.view.status += f" (restarted: {self._death})"
            self._death = None
        if self.timed_waiting:
            self.timed_waiting = False
            self._start_timed()
        elif self.in_flight is None:
            self.view.busy = False

    def _on_result(self, event) -> None:
        if event.request_id != self.in_flight:
            return
        self.in_flight = None
        info = event.info or {}
        if self.timed is not None:  # one frame of many: decided, or skipped with the reason
            self.timed.record(event.decision, info.get("problem"))
            if event.decision is None:
                self.view.busy_text = self._timed_text(info.get("problem") or "")
            else:
                self.last_decision = event.decision
                self._show_model(event.decision.total)
            if self.timed.done:
                self._finish_timed()
            return
        decision: Decision = event.decision
        self.last_decision = decision
        self._show_model(decision.total)
        note = info.get("note", "")
        self.view.busy = False
        if self.settings.liveness != "off":
            note = "; ".join(filter(None, [note, ONE_FRAME_NOTE]))
        self._show_decision(decision, note)
        self.view.status = event.message + (f" ({note})" if note else "")

    def _on_error(self, event) -> None:
        message = event.message or "the inference worker reported an error"
        self.view.status = message
        if event.request_id is not None and event.request_id != self.in_flight:
            return
        if event.request_id is None and self.state is WorkerState.LOADING:
            self.state = WorkerState.FAILED  # e.g. a damaged model file
            self.view.model = message
            if self.in_flight is not None:
                return  # the worker retries loading for it
        self._abandon("Error", message)

    def _on_died(self, event) -> None:
        message = event.message or "the inference worker stopped"
        now = self.clock()
        if self._last_death_at is None or now - self._last_death_at > RESTARTS_FORGIVEN_AFTER:
            self._deaths_in_row = 0
        self._deaths_in_row += 1
        self._last_death_at = now
        self._death = message
        if self._deaths_in_row > len(RESTART_DELAYS):
            self.state, self._gave_up = WorkerState.FAILED, True
            gave_up = (
                f"the inference worker died {self._deaths_in_row} times in a row"
                f" (last: {message}); not restarting it: quit and start faceapp again"
            )
            self._abandon("Error", gave_up)
            self.view.status = self.view.model = gave_up
            return
        self.state = WorkerState.LOADING
        self.restarts += 1
        self._abandon("Error", f"{message}; restarting it")
        delay = RESTART_DELAYS[self._deaths_in_row - 1]
        self.view.status = f"{message}; restarting it" + (f" in {delay:g} s..." if delay else "...")
        self.view.model = "restarting the inference worker..."
        self.view.busy, self.view.busy_text = True, "restarting the model..."
        self._restart_at = now + delay
        if not delay:
            self._restart_worker()

    def _restart_worker(self) -> None:
        self._restart_at = None
        assert self.worker is not None  # it reported its death
        try:
            self.worker.restart()
        except Exception as error:  # noqa: BLE001 - e.g. no memory to start it: one more death
            self._on_died(SimpleNamespace(message=f"cannot restart it: {one_line(error)}"))
            return
        self.on_worker_started(self.worker)

    def _abandon(self, label: str, message: str) -> None:
        was_running = self.verifying
        if self.timed is not None:
            self.stop_liveness()
        self.in_flight, self.timed, self.timed_waiting = None, None, False
        self.view.busy = False
        if was_running:
            self._show(label, message, Tone.BAD)

    def _finish_timed(self) -> None:
        timed, self.timed = self.timed, None
        assert timed is not None  # called only while one runs
        self.stop_liveness()
        self.view.busy = False
        outcome = timed.outcome()
        if outcome is None:
            self._show("Unverified", f"no face could be judged: {timed.explain()}", Tone.BAD)
        else:
            self.last_decision = outcome
            self._show_decision(outcome, timed.explain())
        self.view.status = f"timed verification: {timed.explain()}"

    # --- showing results ------------------------------------------------------------------

    def _show_model(self, gallery_size: int | None) -> None:
        """One line: the model and the rule it decides by (the window counts the faces)."""
        self.view.model = self.model_name + (f" · {self.rule_named}" if self.rule_named else "")

    def _show_decision(self, decision: Decision, extra: str = "") -> None:
        if decision.rule == "centroid" and not self._touched():
            # the level's threshold for the faces enrolled now, so the slider shows the bar
            self.view.detection_threshold = decision.detection_threshold
        self._show(
            decision.label,
            decision.summary() + (f"\n{extra}" if extra else ""),
            Tone.GOOD if decision.verified else Tone.BAD,
        )

    def _show(self, label: str, summary: str, tone: Tone) -> None:
        self.view.result, self.view.summary, self.view.tone = label, summary, tone


def enrolled(root: DataRoot) -> int:
    """How many verification images there are."""
    try:
        return len(list_images(root.verification_images))
    except FaceappError:
        return 0
