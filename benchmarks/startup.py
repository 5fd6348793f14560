"""A one-shot check as a script would run it: the whole process, start to exit.

``project``   ``python -m faceapp.verify PHOTO`` against ``--gallery`` enrolled images (their
              embeddings already in the gallery cache, as after the first check), with the
              model that runs by default.
``face_recognition's way``  a fresh Python that imports dlib, loads its three models
              (detector, 5-point landmarks, ResNet), encodes the probe and compares it with
              ``--gallery`` stored encodings: what a script using face_recognition does.

Both on the same probe photo, ``--startup-runs`` times each (median), in the same run. Peak
memory is the process's own high-water resident set (``VmHWM`` in /proc, read every few
milliseconds until it exits; ``getrusage`` would count the benchmark's own memory, which a
child inherits as its starting maximum). Targets: project at most 0.5 s and 200 MiB, and at
least 2x faster than face_recognition's way.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.core import Results, Row, at_least, at_most

S = "start-up"
TARGET_SECONDS = 0.5
TARGET_MIB = 200.0
TARGET_SPEEDUP = 2.0
PROJECT_ROOT = Path(__file__).resolve().parent.parent

FACE_RECOGNITION_WAY = """
import sys
import cv2, dlib, numpy as np, face_recognition_models as m
detector = dlib.get_frontal_face_detector()
shape = dlib.shape_predictor(m.pose_predictor_five_point_model_location())
encoder = dlib.face_recognition_model_v1(m.face_recognition_model_location())
known = np.load(sys.argv[2])
rgb = np.ascontiguousarray(cv2.imread(sys.argv[1])[:, :, ::-1])
faces = detector(rgb, 1)
if not faces:
    sys.exit(1)
probe = np.asarray(encoder.compute_face_descriptor(rgb, shape(rgb, faces[0])))
sys.exit(0 if np.mean(np.linalg.norm(known - probe, axis=1) <= 0.6) > 0.5 else 1)
"""


def high_water_kib(pid: int) -> int | None:
    """The process's peak resident memory so far (KiB), or None once it has gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def measure(command: list[str], env: dict) -> tuple[float, float, int]:
    """``(seconds, peak MiB, exit status)`` of one run of ``command``."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    peak = 0
    while True:
        finished, status = os.waitpid(process.pid, os.WNOHANG)
        if finished:
            break
        peak = max(peak, high_water_kib(process.pid) or 0)
        time.sleep(0.002)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return seconds, peak / 1024.0, process.returncode


def runs(command: list[str], env: dict, count: int) -> tuple[float, float, set[int]]:
    measured = [measure(command, env) for _ in range(count)]
    return (
        float(np.median([m[0] for m in measured])),
        max(m[1] for m in measured),
        {m[2] for m in measured},
    )


def run(results: Results, context, args) -> None:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    probe = context.frame_paths[0]
    with context.data_root(args.gallery) as root:
        command = [
            sys.executable,
            "-m",
            "faceapp.verify",
            str(probe),
            "--data-root",
            str(root.root),
        ]
        if args.model:
            command += ["--model", str(args.model)]
        measure(command, env)  # fills the gallery cache and the disk cache, as a first use does
        seconds, mib, codes = runs(command, env, args.startup_runs)
    results.add(
        Row(
            S,
            f"faceapp.verify PHOTO, {args.gallery} enrolled, whole process",
            seconds,
            "s",
            target=f"<= {TARGET_SECONDS:g} s",
            meets=at_most(seconds, TARGET_SECONDS),
            note=f"median of {args.startup_runs}; exit {sorted(codes)}",
        )
    )
    results.add(
        Row(
            S,
            "faceapp.verify: peak memory",
            mib,
            "MiB",
            target=f"<= {TARGET_MIB:g} MiB",
            meets=at_most(mib, TARGET_MIB),
        )
    )
    try:
        from benchmarks.verification import DlibWay
    except ImportError:
        return
    try:
        way = DlibWay([context.webcam(p) for p in context.gallery_paths[: args.gallery]])
    except ImportError as error:
        results.note(f"face_recognition's way not measured ({error.name} missing)")
        return
    with context.tempdir() as folder:
        known = folder / "known.npy"
        np.save(known, way.gallery)
        command = [sys.executable, "-c", FACE_RECOGNITION_WAY, str(probe), str(known)]
        measure(command, env)
        reference, reference_mib, codes = runs(command, env, args.startup_runs)
    speedup = reference / seconds
    results.add(
        Row(
            S,
            "faceapp.verify against face_recognition's way",
            speedup,
            "x faster",
            f"face_recognition's way {reference:.2f} s, {reference_mib:.0f} MiB",
            speedup,
            "x",
            f">= {TARGET_SPEEDUP:g}x",
            at_least(speedup, TARGET_SPEEDUP),
            note=f"median of {args.startup_runs}; exit {sorted(codes)}",
        )
    )
