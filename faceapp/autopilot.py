"""Drive the real app window from a list of steps: for tests, screenshots and benchmarks.

    python -m faceapp.autopilot --steps steps.json --report report.json -- --camera clip.avi

runs ``main.py``'s window with the flags after ``--`` and plays ``steps.json``, a JSON list
of steps, one at a time (keys go through ``Window.dispatch('on_key_down', ...)``, exactly
the path a real key press takes):

    {"wait": "frames", "count": 5}       until 5 frames were shown (also "ready", "idle")
    {"wait": "overlay", "contains": "no camera"}   until the preview's message says so
    {"key": "a"}                          press a key ("escape" for Esc)
    {"button": "verify_button"}           press a button by its id in faceapp.kv
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
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("KIVY_NO_ARGS", "1")

from faceapp.cli import display_problem, parse_args  # noqa: E402
from faceapp.errors import FaceappError, cli_guard  # noqa: E402

DEFAULT_WAIT = 90.0
SPECIAL_KEYS = {"escape": (27, None)}


class Autopilot:
    """Plays the steps on the app's Clock and writes the report when done."""

    def __init__(self, steps: list[dict], report: Path):
        self.steps = steps
        self.report = report
        self.position = 0
        self.step_started = time.monotonic()
        self.records: dict[str, dict] = {}
        self.error: str | None = None
        self.written = False
        self.app = None

    def attach(self, app) -> None:
        from kivy.clock import Clock

        self.app = app
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
        if "set" in step:
            setattr(app, step["set"], step["value"])
            return True
        if "reset_timing" in step:
            app.frame_intervals.clear()
            return True
        if "kill_worker" in step:
            os.kill(app.worker.pid, signal.SIGKILL)
            return True
        if "sleep" in step:
            return time.monotonic() - self.step_started >= float(step["sleep"])
        if "record" in step:
            self.records[step["record"]] = app.snapshot()
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
        if kind == "ready":
            return app.worker_state == "ready"
        if kind == "idle":
            return not (app.pending_actions or app.busy or app.in_flight is not None
                        or app.timed is not None
                        or app.timed_waiting or app._saves or app._crop_purposes)
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
            "final": self.app.snapshot(),
        }
        self.report.parent.mkdir(parents=True, exist_ok=True)
        self.report.write_text(json.dumps(report, indent=2, default=str) + "\n")


def start_xvfb(size: str = "1280x800x24") -> tuple[subprocess.Popen, str]:
    """Start Xvfb on a free display (it tells us which through -displayfd): (process, ":N")."""
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", size, "-nolisten", "tcp"],
        pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
    app_args = argv[argv.index("--") + 1:] if "--" in argv else []
    own_args = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(prog="python -m faceapp.autopilot")
    parser.add_argument("--steps", required=True, help="JSON file: a list of steps")
    parser.add_argument("--report", required=True, help="where to write the JSON report")
    args = parser.parse_args(own_args)
    try:
        steps = json.loads(Path(args.steps).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise FaceappError(f"cannot read steps {args.steps}: {error}") from None
    options = parse_args(app_args)
    problem = display_problem()
    if problem:
        raise FaceappError(problem)
    from faceapp.app import run_app

    pilot = Autopilot(steps, Path(args.report))
    run_app(options, on_ready=pilot.attach)
    return 0 if pilot.error is None and pilot.written else 1


if __name__ == "__main__":
    sys.exit(main())
