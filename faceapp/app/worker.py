"""The inference worker: the model runs in its own process, apart from the window.

On the default int8 runtime the child needs numpy and LiteRT only, and is ready in well
under a second. It still runs apart from the window: a crash there never takes the window
down (the app restarts it), and when a model must be converted once, or ``--runtime keras``
is asked for, the child imports TensorFlow — which a Kivy window's process must never do
(a measured trap: Mesa then segfaults). So the app talks to the child through two queues,
and this module imports nothing heavy at module level.

Protocol (all calls from the GUI thread are non-blocking)::

    worker = InferenceWorker(data_root)
    worker.start()                          # child emits "loading", then "ready" (or "error")
    request = worker.verify(frame)          # child saves input_image.jpg, replies "result"
    for event in worker.poll():             # call from the frame loop
        ...                                 # event.kind: loading|ready|result|error|died

Requests sent before "ready" wait in the queue. Errors in the child come back as "error"
events and never end it; if the child dies anyway (crash, kill -9), :meth:`poll` yields
one "died" event and :meth:`restart` starts a fresh one.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import queue
import signal
import sys
import types
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from faceapp.errors import FaceappError, one_line
from faceapp.paths import DataRoot
from faceapp.verification.rule import parse_threshold

if TYPE_CHECKING:
    from faceapp.verification.rule import Decision
    from faceapp.vision.finder import Face

STOP_TIMEOUT = 5.0  # seconds stop() waits for a clean exit before terminating
PARENT_CHECK_SECONDS = 1.0  # how often an idle child checks that the app still runs


@dataclass
class WorkerEvent:
    """One message from the worker to the app."""

    kind: str  # "loading" | "ready" | "result" | "error" | "died"
    request_id: int | None = None
    message: str = ""  # one line for the status bar
    decision: Decision | None = None  # for "result"
    info: dict = field(default_factory=dict)
    # "ready": {"model": str (how to name it), "detection_threshold": float (for the faces
    #           enrolled now), "verification_threshold": float, "gallery_size": int,
    #           "runtime": str, "rule": "centroid" | "vote", "rule_named": str}
    # "result": {"gallery_size": int | None, "note": str (how the face was cut, "" when well),
    #            "problem": str | None (why a judged frame has no decision)}
    # "died": {"exitcode": int | None, "lost_requests": [ids]}


class InferenceWorker:
    """Owns the child process that loads the model and verifies faces."""

    def __init__(
        self,
        data_root: DataRoot,
        model_path: str | Path | None = None,
        detection_threshold: float | None = None,
        verification_threshold: float | None = None,
        runtime: str = "int8",
        security: str | None = None,
    ):
        """``model_path``: a model file or a shipped model's name (None: the usual choice);
        ``security``: the level (None: the saved setting's, else the model's default)."""
        self.data_root = data_root
        self.runtime = runtime
        self.model_path = str(model_path) if model_path else None
        self.detection_threshold = detection_threshold
        self.verification_threshold = verification_threshold
        self.security = security
        self._context = multiprocessing.get_context("spawn")
        self._process: Any = None  # a multiprocessing spawn Process, once started
        self._requests: Any = None  # multiprocessing Queues to and from the child
        self._events: Any = None
        self._ids = itertools.count(1)
        self._pending: list[int] = []  # request ids sent but not yet answered
        self._died_reported = False
        self._stopping = False
        self._local: list[WorkerEvent] = []  # events made in this process (bad requests)

    # --- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Start the child (non-blocking). It emits "loading", then "ready" or "error"."""
        if self._process is not None and self._process.is_alive():
            return
        self._requests = self._context.Queue()
        self._requests.cancel_join_thread()  # never hang at exit if the child is dead
        self._events = self._context.Queue()
        self._pending = []
        self._died_reported = False
        self._stopping = False
        self._process = self._context.Process(
            target=_child_main,
            args=(
                self._requests,
                self._events,
                str(self.data_root.root),
                ChildSettings(
                    self.model_path,
                    self.detection_threshold,
                    self.verification_threshold,
                    self.runtime,
                    self.security,
                ),
            ),
            name="faceapp-inference",
            daemon=True,
        )
        with _main_module_hidden():
            self._process.start()

    def is_alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def pid(self) -> int | None:
        """The child's process id (None before start)."""
        return self._process.pid if self._process is not None else None

    def stop(self) -> None:
        """Ask the child to exit, wait up to STOP_TIMEOUT s, then terminate it."""
        process, self._stopping = self._process, True
        if process is None:
            return
        if process.is_alive():
            try:
                self._requests.put(("stop",))
            except (OSError, ValueError):
                pass
            process.join(STOP_TIMEOUT)
        if process.is_alive():
            process.terminate()
            process.join(STOP_TIMEOUT)
        if process.is_alive():
            process.kill()
            process.join(STOP_TIMEOUT)
        self._close_queues()
        self._process = None

    def restart(self) -> None:
        """Stop the child (if any) and start a fresh one with the current settings."""
        self.stop()
        self.start()

    def _close_queues(self) -> None:
        for q in (self._requests, self._events):
            if q is not None:
                q.cancel_join_thread()  # never hang at exit on a dead reader
                q.close()
        self._requests = self._events = None

    # --- requests -----------------------------------------------------------------------

    def verify(
        self,
        frame_bgr: np.ndarray,
        face: Face | None = None,
        searched: bool = False,
        judge: bool = False,
    ) -> int:
        """Queue a BGR uint8 frame for verification; return the request id. ``face`` with
        ``searched=True``: the face already found in it (None: none), so the worker does not
        search again; by default the worker finds the face itself. ``judge``: one frame of a
        multi-frame verification (:meth:`faceapp.verification.verifier.Verifier.judge`): a
        frame with no face, or too dark or blurred, comes back with no decision and the
        problem in ``info``."""
        if self._process is None:
            self.start()
        request_id = next(self._ids)
        frame = np.ascontiguousarray(frame_bgr)
        if frame.ndim != 3 or frame.size == 0:
            self._local.append(
                WorkerEvent("error", request_id, f"not an image to verify (shape {frame.shape})")
            )
            return request_id
        if self._died_reported or self._stopping:
            self._local.append(
                WorkerEvent("error", request_id, "inference worker is not running; restart it")
            )
            return request_id
        self._pending.append(request_id)
        self._requests.put(("verify", request_id, frame, face, searched, judge))
        return request_id

    def set_thresholds(
        self, detection: float | None = None, verification: float | None = None
    ) -> None:
        """Change the thresholds (kept across restarts); None keeps the current one."""
        if detection is not None:
            self.detection_threshold = parse_threshold(detection, "detection threshold")
        if verification is not None:
            self.verification_threshold = parse_threshold(verification, "verification threshold")
        if self.is_alive():
            self._requests.put(
                ("thresholds", self.detection_threshold, self.verification_threshold)
            )

    # --- events -------------------------------------------------------------------------

    def poll(self) -> list[WorkerEvent]:
        """Every event that has arrived since the last call (never blocks)."""
        events, self._local = self._local, []
        if self._events is not None:
            while True:
                try:
                    event = self._events.get_nowait()
                except (queue.Empty, OSError, ValueError, EOFError):
                    break
                if event.request_id in self._pending and event.kind in ("result", "error"):
                    self._pending.remove(event.request_id)
                events.append(event)
        died = self._check_died()
        if died is not None:
            events.append(died)
        return events

    def _check_died(self) -> WorkerEvent | None:
        process = self._process
        if process is None or self._stopping or self._died_reported or process.is_alive():
            return None
        self._died_reported = True
        code = process.exitcode
        if code is not None and code < 0:
            try:
                how = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"killed by signal {-code}"
        else:
            how = f"exit code {code}"
        lost, self._pending = self._pending, []
        return WorkerEvent(
            "died",
            message=f"inference worker stopped unexpectedly ({how})",  # the owner restarts it
            info={"exitcode": code, "lost_requests": lost},
        )


@contextmanager
def _main_module_hidden():
    """Start the child without re-running the app's ``__main__`` in it.

    "spawn" normally re-imports the parent's main script in the child (which would import
    Kivy there, and start a second app if ``main.py`` lacked its ``__name__`` guard). The
    child needs only this module, so the main module is replaced by an empty one while
    the process is being started.
    """
    real_main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if real_main is not None:
            sys.modules["__main__"] = real_main


# --- The child process ----------------------------------------------------------------------


@dataclass(frozen=True)
class ChildSettings:
    """What the child loads and decides with (sent to it once, when it starts)."""

    model_path: str | None
    detection: float | None
    verification: float | None
    runtime: str = "int8"
    security: str | None = None


def _child_main(requests, events, root: str, settings: ChildSettings) -> None:
    """Load the model (LiteRT; TensorFlow only for a one-off conversion or --runtime keras),
    then answer requests until told to stop."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the app's to handle
    child = _Child(events, DataRoot.resolve(root), settings)
    child.load()
    parent = multiprocessing.parent_process()
    while True:
        try:
            request = requests.get(timeout=PARENT_CHECK_SECONDS)
        except queue.Empty:
            if parent is not None and not parent.is_alive():
                return
            continue
        except (EOFError, OSError):
            return
        if request[0] == "stop":
            return
        child.handle(request)


class _Child:
    """The child's state: the verifier (None until a model loaded) and its settings."""

    def __init__(self, events, data_root: DataRoot, settings: ChildSettings):
        self.events = events
        self.data_root = data_root
        self.settings = settings
        self.flags = (settings.detection, settings.verification)
        self.verifier: Any = None  # a faceapp.verification.verifier.Verifier once a model loaded
        self.load_error: str | None = None

    def emit(self, kind: str, request_id: int | None = None, message: str = "", **extra) -> None:
        self.events.put(WorkerEvent(kind, request_id, one_line(message), **extra))

    def load(self) -> bool:
        """Load the model and embed the gallery; emit "ready" or "error"."""
        self.emit("loading", message="loading the model…")
        try:
            from faceapp.verification.rule import Thresholds
            from faceapp.verification.verifier import Verifier, open_model

            settings = self.settings
            model = open_model(self.data_root, settings.model_path, settings.runtime)
            thresholds = Thresholds.resolve(*self.flags, model.metadata.values, settings.security)
            verifier = Verifier(model, self.data_root, thresholds, keep_last_face=True)
            size = len(verifier.gallery)
        except Exception as error:  # noqa: BLE001 - reported, never fatal
            self.load_error = _describe(error)
            self.emit("error", message=self.load_error)
            return False
        self.verifier, self.load_error = verifier, None
        message = f"ready: {model.describe()}, {size} verification image(s)"
        if model.note:
            message += f"; float32 because {model.note}"
        if model.files.why:
            message += f"; {model.files.why}"
        if verifier.gallery.warning:
            message += f"; {verifier.gallery.warning}"
        self.emit(
            "ready",
            message=message,
            info={
                "model": model.files.describe(),
                "detection_threshold": thresholds.threshold_for(size),
                "verification_threshold": thresholds.verification,
                "gallery_size": size,
                "runtime": model.runtime,
                "rule": thresholds.rule,
                "rule_named": thresholds.named,
            },
        )
        return True

    def handle(self, request: tuple) -> None:
        kind = request[0]
        try:
            if kind == "thresholds":
                self.set_thresholds(request[1], request[2])
            elif kind == "verify":
                self.verify(*request[1:])
            else:
                self.emit("error", message=f"unknown request {kind!r}")
        except Exception as error:  # noqa: BLE001 - the child must survive any request
            request_id = request[1] if kind == "verify" else None
            self.emit("error", request_id, _describe(error))

    def set_thresholds(self, detection, verification) -> None:
        self.flags = (detection, verification)
        if self.verifier is not None:
            from faceapp.verification.rule import Thresholds

            self.verifier.thresholds = Thresholds.resolve(
                detection, verification, self.verifier.model.metadata.values, self.settings.security
            )

    def verify(
        self, request_id: int, frame: np.ndarray, face, searched: bool, judge: bool = False
    ) -> None:
        if self.verifier is None and not self.load():  # e.g. a model trained since start
            self.emit("error", request_id, self.load_error or "no model loaded")
            return
        if judge:  # one frame of many: a poor frame is skipped, with the reason
            judgement = self.verifier.judge(frame, face, searched)
            decision, problem, picture = judgement.decision, judgement.problem, judgement.picture
        else:
            (decision, picture), problem = self.verifier.verify_frame(frame, face, searched), None
        self.emit(
            "result",
            request_id,
            decision.summary() if decision is not None else f"skipped: {problem}",
            decision=decision,
            info={
                "gallery_size": decision.total if decision is not None else None,
                "note": picture.note,
                "problem": problem,
            },
        )


def _describe(error: BaseException) -> str:
    """One line for the status bar: our own messages as they are, others with their type."""
    if isinstance(error, FaceappError):
        return one_line(error)
    return one_line(f"{type(error).__name__}: {error}")[:300]
