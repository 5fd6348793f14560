"""Helpers for the GUI tests: videos made from the fixture's faces, and the autopilot.

The app window always runs in a subprocess (``python -m faceapp.app.autopilot``): the pytest
process may have imported TensorFlow, and a Kivy window in such a process segfaults.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FRAME_SIZE = (640, 480)


def paste(photo: np.ndarray, size: tuple[int, int] = FRAME_SIZE, grey: int = 90) -> np.ndarray:
    """A 640x480 frame with the 250x250 LFW photo in the middle (as a webcam would show)."""
    width, height = size
    frame = np.full((height, width, 3), grey, np.uint8)
    h, w = photo.shape[:2]
    y, x = (height - h) // 2, (width - w) // 2
    frame[y : y + h, x : x + w] = photo
    return frame


def make_video(path: Path, photos: list[Path], repeat: int = 3, fps: float = 30.0) -> Path:
    """An MJPG video of the photos pasted on 640x480 frames, each shown ``repeat`` frames."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, FRAME_SIZE)
    if not writer.isOpened():
        raise RuntimeError(f"cannot write video {path}")
    for photo in photos:
        frame = paste(cv2.imread(str(photo)))
        for _ in range(repeat):
            writer.write(frame)
    writer.release()
    return path


def run_app(
    steps: list[dict], app_args: list[str], env: dict, workdir: Path, timeout: float = 120
) -> dict:
    """Run the real window with the autopilot; return its report (plus rc and stderr)."""
    workdir.mkdir(parents=True, exist_ok=True)
    steps_file, report_file = workdir / "steps.json", workdir / "report.json"
    steps_file.write_text(json.dumps(steps))
    report_file.unlink(missing_ok=True)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "faceapp.app.autopilot",
            "--steps",
            str(steps_file),
            "--report",
            str(report_file),
            "--",
            *app_args,
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    report = json.loads(report_file.read_text()) if report_file.exists() else {}
    report["returncode"] = completed.returncode
    report["stderr"] = completed.stderr[-4000:]
    return report


def enrol_steps(presses: int, frames: int = 5) -> list[dict]:
    """Press e ``presses`` times, ``frames`` new frames apart (a different frame each time,
    however loaded the machine)."""
    steps = []
    for _ in range(presses):
        steps += [{"key": "e"}, {"wait": "new_frames", "count": frames}]
    return steps
