"""Drive the real app window from a list of steps: for tests, screenshots and benchmarks.

    python -m faceapp.app.autopilot --steps steps.json --report report.json -- --camera clip.avi

runs ``main.py``'s window with the flags after ``--`` and plays ``steps.json``, a JSON list
of steps, one at a time (keys go through ``Window.dispatch('on_key_down', ...)``, exactly
the path a real key press takes):

    {"wait": "frames", "count": 5}       until 5 frames were shown (also "ready", "idle")
    {"wait": "new_frames", "count": 2}   until 2 more frames were shown since this step began
    {"wait": "restarts", "count": 1}     until the inference worker was restarted once
    {"wait": "file", "path": "x/done"}   until that file exists (another process made it)
    {"wait": "overlay", "contains": "no camera"}   until the preview's message says so
    {"key": "a"}                          press a key ("escape" for Esc)
    {"button": "verify_button"}           press a button by its id in faceapp.kv
    {"tap_enrolled": 0}                   tap the strip's first enrolled face (twice removes it)
    {"set": "detection_threshold", "value": 0.3}
    {"sleep": 0.5}
    {"reset_timing": true}                forget the frame intervals measured so far
    {"kill_worker": true}                 kill the inference process (to test recovery)
    {"record": "after_verify"}            store what the window shows under that name
    {"screenshot": "docs/screenshot.png"}

Every wait takes an optional ``"timeout"`` (seconds, default 90). When the steps are done
(or one fails) the report is written: the recorded snapshots, the final one, and
``"error"`` (null when every step passed); the exit status is 0 only if all passed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

os.environ.setdefault("KIVY_NO_ARGS", "1")

from faceapp.app.launch import open_window  # noqa: E402
from faceapp.app.options import parse_args
from faceapp.errors import FaceappError, cli_guard  # noqa: E402

DEFAULT_WAIT = 90.0
SPECIAL_KEYS = {"escape": (27, None)}


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


class FrameTimer:
    """The preview's timings: when the first frame was shown, and the intervals between
    shown frames (the window calls it for every frame it shows)."""

    def __init__(self):
        self.launched_at = process_started_at()
        self.first_frame_at: float | None = None
        self.intervals: deque[float] = deque(maxlen=2000)
        self._last: float | None = None

    def __call__(self, _frame) -> None:
        now = time.monotonic()
        if self._last is None:
            self.first_frame_at = now
        else:
            self.intervals.append(now - self._last)
        self._last = now

    def percentile_ms(self, q: float) -> float | None:
        ordered = sorted(self.intervals)
        if not ordered:
            return None
        return 1000 * ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]

    def since_launch(self, moment: float | None) -> float | None:
        return None if moment is None else moment - self.launched_at


def snapshot(app, timer: FrameTimer) -> dict:
    """What the window shows, and the preview's timings."""
    from kivy.clock import Clock

    session = app.session
    decision = session.last_decision
    return {
        "status": app.status_text,
        "overlay": app.overlay_text,
        "result": app.result_text,
        "summary": app.summary_text,
        "model": app.model_text,
        "counts": app.counts(),
        "busy": app.busy,
        "busy_text": app.busy_text,
        "worker_state": session.state.value,
        "worker_restarts": session.restarts,
        "detection_threshold": float(app.detection_threshold),
        "verification_threshold": float(app.verification_threshold),
        "decision": decision.to_dict() if decision else None,
        "frames_shown": app.frames_shown,
        "frames_read": app.pipeline.frames_read,
        "ui_fps": Clock.get_fps(),
        "detect_ms": app.pipeline.detect_ms,
        "liveness_ms": app.pipeline.liveness_ms,
        "frame_interval_p50_ms": timer.percentile_ms(0.5),
        "frame_interval_p95_ms": timer.percentile_ms(0.95),
        "first_frame_s": timer.since_launch(timer.first_frame_at),
        "ready_s": timer.since_launch(session.ready_at),
        "tensorflow_imported": "tensorflow" in sys.modules or "keras" in sys.modules,
        "enrolled_strip": [  # left to right: each thumbnail's face, armed or not, bordered or not
            {
                "name": thumb.name,
                "armed": bool(thumb.armed),
                "border": bool(thumb.canvas.after.children),
            }
            for thumb in thumbnails(app)
        ],
    }


def thumbnails(app) -> list:
    """The enrolled faces' thumbnails along the preview, left to right (Kivy keeps a
    layout's children newest first)."""
    return list(reversed(app.root.ids.enrolled_strip.children))


class Autopilot:
    """Plays the steps on the app's Clock and writes the report when done."""

    def __init__(self, steps: list[dict], report: Path):
        self.steps = steps
        self.report = report
        self.position = 0
        self.step_started = time.monotonic()
        self.step_frames = 0  # frames shown when the current step began
        self.records: dict[str, dict] = {}
        self.error: str | None = None
        self.written = False
        self.app: Any = None  # the faceapp.app.window.FaceApp, once it runs

    def attach(self, app) -> None:
        from kivy.clock import Clock

        self.app = app
        self.timer = FrameTimer()
        app.frame_listeners.append(self.timer)
        app.bind(on_stop=lambda *_: self.write_report())
        self.step_started = time.monotonic()
        self._event = Clock.schedule_interval(self._advance, 0.02)

    # --- playing ----------------------------------------------------------------------------

    def _advance(self, _dt) -> None:
        while self.position < len(self.steps):
            step = self.steps[self.position]
            try:
                finished = self._play(step)
            except Exception as error:  # noqa: BLE001 - reported, never hidden
                self._fail(f"step {self.position} {step}: {type(error).__name__}: {error}")
                return
            if not finished:
                if time.monotonic() - self.step_started > float(step.get("timeout", DEFAULT_WAIT)):
                    self._fail(f"step {self.position} {step} timed out")
                return
            self.position += 1
            self.step_started = time.monotonic()
            self.step_frames = self.app.frames_shown
        self._finish()

    def _play(self, step: dict) -> bool:
        """Do one step; True when it is complete (waits return False until then)."""
        app = self.app
        if "wait" in step:
            return self._condition(step)
        if "key" in step:
            from kivy.core.window import Window

            name = str(step["key"])
            key, codepoint = SPECIAL_KEYS.get(name, (ord(name[0]), name[0]))
            Window.dispatch("on_key_down", key, 0, codepoint, [])
            Window.dispatch("on_key_up", key, 0)
            return True
        if "button" in step:
            app.root.ids[step["button"]].trigger_action(0)
            return True
        if "tap_enrolled" in step:  # the n-th thumbnail of the strip, from the left
            app.tap_enrolled(thumbnails(app)[int(step["tap_enrolled"])].name)
            return True
        if "set" in step:
            setattr(app, step["set"], step["value"])
            return True
        if "reset_timing" in step:
            self.timer.intervals.clear()
            return True
        if "kill_worker" in step:
            os.kill(app.session.worker.pid, signal.SIGKILL)
            return True
        if "sleep" in step:
            return time.monotonic() - self.step_started >= float(step["sleep"])
        if "record" in step:
            self.records[step["record"]] = snapshot(app, self.timer)
            return True
        if "screenshot" in step:
            save_screenshot(Path(step["screenshot"]))
            return True
        raise ValueError("unknown step")

    def _condition(self, step: dict) -> bool:
        app = self.app
        kind = step["wait"]
        if kind == "frames":
            return app.frames_shown >= int(step.get("count", 1))
        if kind == "new_frames":
            return app.frames_shown - self.step_frames >= int(step.get("count", 1))
        if kind == "file":
            return Path(step["path"]).exists()
        if kind == "restarts":
            return app.session.restarts >= int(step.get("count", 1))
        if kind == "ready":
            return app.session.state.value == "ready"
        if kind == "idle":
            return not (
                app.pending_actions or app.busy or app.session.verifying or app.saver.pending
            )
        if kind == "overlay":
            return str(step["contains"]) in app.overlay_text
        raise ValueError(f"unknown wait {kind!r}")

    # --- ending -----------------------------------------------------------------------------

    def _fail(self, message: str) -> None:
        self.error = message
        self._finish()

    def _finish(self) -> None:
        self._event.cancel()
        self.write_report()
        self.app.stop()

    def write_report(self) -> None:
        if self.written or self.app is None:
            return
        self.written = True
        report = {
            "error": self.error,
            "steps_done": self.position,
            "records": self.records,
            "final": snapshot(self.app, self.timer),
        }
        self.report.parent.mkdir(parents=True, exist_ok=True)
        self.report.write_text(json.dumps(report, indent=2, default=str) + "\n")


def start_xvfb(size: str = "1280x800x24") -> tuple[subprocess.Popen, str]:
    """Start Xvfb on a free display (it tells us which through -displayfd): (process, ":N")."""
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", size, "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    number = b""
    with os.fdopen(read_end, "rb") as pipe:
        while not number.endswith(b"\n"):
            chunk = pipe.read(1)
            if not chunk:
                break
            number += chunk
    if not number.strip():
        process.kill()
        raise FaceappError("Xvfb did not start")
    return process, f":{number.decode().strip()}"


def save_screenshot(target: Path) -> Path:
    """Save the window as a PNG at exactly ``target`` (Kivy adds a counter to the name)."""
    from kivy.core.window import Window

    target.parent.mkdir(parents=True, exist_ok=True)
    # Kivy inserts a counter before the suffix: ".shot-name0001.png".
    written = Window.screenshot(name=str(target.with_name(f".shot-{target.stem}.png")))
    if not written:
        raise FaceappError("the window could not be captured")
    os.replace(written, target)
    return target


@cli_guard
def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    app_args = argv[argv.index("--") + 1 :] if "--" in argv else []
    own_args = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(prog="python -m faceapp.app.autopilot")
    parser.add_argument("--steps", required=True, help="JSON file: a list of steps")
    parser.add_argument("--report", required=True, help="where to write the JSON report")
    args = parser.parse_args(own_args)
    try:
        steps = json.loads(Path(args.steps).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise FaceappError(f"cannot read steps {args.steps}: {error}") from None
    options = parse_args(app_args)
    pilot = Autopilot(steps, Path(args.report))
    open_window(options, on_ready=pilot.attach)
    return 0 if pilot.error is None and pilot.written else 1


if __name__ == "__main__":
    sys.exit(main())
