"""The app's figures, measured on the real window in a separate process under Xvfb.

``python -m faceapp.app.autopilot`` opens ``main.py``'s window on a 640x480 video made of LFW
frames (looping), with a temporary data root (``--gallery`` verification images, the model
that runs by default: the shipped one, or ``--model``), and plays: wait for the first frame,
wait until the inference worker is ready, then press ``v`` and wait for the result, back to
back, for ``--app-seconds``. Read from the window's own measurements (faceapp.app.autopilot):

- frame interval p95 while verifications run (target: at most 40 ms): the window's list of
  intervals is emptied once the worker is ready, so model loading is not counted;
- launch to the first frame on screen (target: 1.5 s), measured from just before the
  process is started;
- launch to the first possible verification (the worker has loaded the model; target:
  1.5 s);
- peak memory: the largest sum of the proportional set sizes (PSS: each shared page split
  among the processes that map it) of the app and all its child processes (the inference
  worker), sampled every 0.1 s (target: 400 MiB); the sum of their resident sets (RSS),
  which counts numpy, OpenCV and LiteRT once per process, is in the note.

These figures are wall-clock and depend on Xvfb's software rendering.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2

from benchmarks.core import Results, Row, at_most
from benchmarks.data import webcam_frame

PROJECT_ROOT = Path(__file__).resolve().parent.parent
S = "app"


def not_measured(results: Results, why: str) -> None:
    for name, target in (
        ("frame interval p95 while verifying", "<= 40 ms"),
        ("launch to first frame", "<= 1.5 s"),
        ("launch to first possible verification", "<= 1.5 s"),
        ("peak memory (app + worker), model loaded", "<= 400 MiB"),
    ):
        results.add(Row(S, name, None, "", target=target, note=why))


def write_video(path: Path, photos: list[Path], seconds: float = 4.0, fps: int = 30) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (640, 480))
    frames = [webcam_frame(p) for p in photos]
    for i in range(int(seconds * fps)):
        writer.write(frames[(i // fps) % len(frames)])  # one photo per second
    writer.release()


def tree_memory(pid: int) -> tuple[int, int]:
    """Bytes of ``pid`` and all its descendants (Linux /proc): the sum of their resident
    sets (RSS: a library both processes map counts twice) and of their proportional sets
    (PSS: its pages divided among the processes that map it, the tree's real footprint)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                ppid = int(handle.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    rss = pss = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        stack.extend(children.get(current, []))
        try:
            with open(f"/proc/{current}/smaps_rollup", encoding="ascii") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
        except OSError:
            continue  # it exited meanwhile
        rss += int(fields.get("Rss", "0 kB").split()[0]) * 1024
        pss += int(fields.get("Pss", "0 kB").split()[0]) * 1024
    return rss, pss


def run(results: Results, context, args) -> None:
    """One app run; its rows read the window's own measurements."""
    from faceapp.app.autopilot import start_xvfb

    with context.data_root(args.gallery) as root, context.tempdir() as folder:
        video = folder / "clip.avi"
        write_video(video, context.frame_paths[:4])
        rounds = max(1, int(args.app_seconds * 2))  # at most this many verifications
        steps = [
            {"wait": "frames", "count": 1},
            {"record": "first_frame"},
            {"wait": "ready", "timeout": 120},
            {"record": "ready"},
            {"reset_timing": True},
        ]  # count frame intervals from here on (verifying)
        for _ in range(rounds):
            steps += [{"key": "v"}, {"sleep": 0.05}, {"wait": "idle", "timeout": 60}]
        steps += [{"record": "after"}, {"key": "escape"}]
        steps_path, report_path = folder / "steps.json", folder / "report.json"
        steps_path.write_text(json.dumps(steps))
        xvfb, display = start_xvfb()
        env = dict(
            os.environ,
            DISPLAY=display,
            KIVY_NO_ARGS="1",
            KIVY_HOME=str(folder / "kivy"),
            KIVY_NO_CONSOLELOG="1",
        )
        env["FACEAPP_LAUNCHED_AT"] = repr(time.monotonic())
        command = [
            sys.executable,
            "-m",
            "faceapp.app.autopilot",
            "--steps",
            str(steps_path),
            "--report",
            str(report_path),
            "--",
            "--camera",
            str(video),
            "--data-root",
            str(root.root),
        ]
        if args.model:
            command += ["--model", str(args.model)]
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        peak_rss = peak_pss = 0
        deadline = time.monotonic() + args.app_seconds + 150
        try:
            while process.poll() is None and time.monotonic() < deadline:
                rss, pss = tree_memory(process.pid)
                peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
                time.sleep(0.1)
            if process.poll() is None:
                process.kill()
            output = process.communicate(timeout=10)[0].decode(errors="replace")
        finally:
            xvfb.kill()
            xvfb.wait()
        if not report_path.exists():
            tail = " / ".join(output.strip().splitlines()[-3:])[:300]
            not_measured(results, f"the app run failed (exit {process.returncode}): {tail}")
            return
        report = json.loads(report_path.read_text())
    final = report.get("records", {}).get("after") or report["final"]
    if report.get("error"):
        results.note(f"app run: {report['error']}")
    decision = final.get("decision") or {}
    p95 = final.get("frame_interval_p95_ms")
    results.add(
        Row(
            S,
            "frame interval p95 while verifying",
            p95,
            "ms",
            "video 30 fps (33 ms)",
            None,
            "",
            "<= 40 ms",
            None if p95 is None else at_most(p95, 40.0),
            f"{report.get('steps_done')} steps; {final.get('frames_shown')} "
            f"frames shown; last: {decision.get('matches')}/"
            f"{decision.get('total')} matches",
        )
    )
    first = final.get("first_frame_s")
    results.add(
        Row(
            S,
            "launch to first frame",
            first,
            "s",
            target="<= 1.5 s",
            meets=None if first is None else at_most(first, 1.5),
        )
    )
    ready = final.get("ready_s")
    results.add(
        Row(
            S,
            "launch to first possible verification",
            ready,
            "s",
            target="<= 1.5 s",
            meets=None if ready is None else at_most(ready, 1.5),
            note=f"{final.get('model')}",
        )
    )
    mib = peak_pss / 2**20
    results.add(
        Row(
            S,
            "peak memory (app + worker), model loaded",
            mib,
            "MiB",
            target="<= 400 MiB",
            meets=at_most(mib, 400.0),
            note=f"largest PSS sum of the process tree; its RSS sum {peak_rss / 2**20:.0f} MiB "
            "counts the libraries both processes map twice",
        )
    )
