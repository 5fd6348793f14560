"""Make the README screenshot by running the real app on a video, under Xvfb.

    python scripts/screenshot.py [--model M.keras] [--out docs/screenshot.png]

The video is made from LFW photos of one person (``--lfw``, default ``$FACEAPP_LFW`` or
``../shared/data/lfw``), or given with ``--video``. The app runs with a temporary data
root: it saves an anchor, a positive and four verification images with the keys, and,
with ``--model``, verifies (so the window shows a decision). Needs Xvfb.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faceapp.autopilot import start_xvfb  # noqa: E402
from faceapp.errors import FaceappError, cli_guard  # noqa: E402

FRAME_SIZE = (640, 480)


def default_lfw() -> Path:
    return Path(os.environ.get("FACEAPP_LFW", ROOT.parent / "shared" / "data" / "lfw"))


def make_video(path: Path, photos: list[Path], repeat: int = 4) -> Path:
    """The photos pasted on grey 640x480 frames, as an MJPG video at 30 frames/s."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, FRAME_SIZE)
    for photo in photos:
        image = cv2.imread(str(photo))
        if image is None:
            continue
        frame = np.full((FRAME_SIZE[1], FRAME_SIZE[0], 3), 90, np.uint8)
        h, w = image.shape[:2]
        y, x = (FRAME_SIZE[1] - h) // 2, (FRAME_SIZE[0] - w) // 2
        frame[y : y + h, x : x + w] = image
        for _ in range(repeat):
            writer.write(frame)
    writer.release()
    return path


def steps(with_model: bool, out: Path) -> list[dict]:
    plan = [{"wait": "frames", "count": 5}, {"key": "a"}, {"key": "p"}]
    for _ in range(4):
        plan += [{"key": "e"}, {"sleep": 0.15}]
    plan.append({"wait": "idle", "timeout": 60})
    if with_model:
        plan += [{"wait": "ready", "timeout": 120}, {"key": "v"}, {"wait": "idle", "timeout": 60}]
    plan += [{"sleep": 0.4}, {"screenshot": str(out)}]
    return plan


@cli_guard
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--model", type=Path, help="a trained model, to show a decision")
    parser.add_argument("--video", type=Path, help="video to show (default: made from LFW)")
    parser.add_argument("--lfw", type=Path, default=default_lfw())
    parser.add_argument("--person", default="Colin_Powell")
    args = parser.parse_args(argv)
    if shutil.which("Xvfb") is None:
        raise FaceappError("Xvfb is not installed (make system-packages)")
    if args.model and not args.model.is_file():
        raise FaceappError(f"model file not found: {args.model}")
    with tempfile.TemporaryDirectory(prefix="faceapp-shot-") as temp:
        temp = Path(temp)
        video = args.video
        if video is None:
            photos = sorted((args.lfw / args.person).glob("*.jpg"))[:12]
            if not photos:
                raise FaceappError(f"no photos of {args.person} under {args.lfw}")
            video = make_video(temp / "video.avi", photos)
        data_root = temp / "data"
        if args.model:
            (data_root / "models").mkdir(parents=True)
            shutil.copy2(args.model, data_root / "models" / args.model.name)
        (temp / "steps.json").write_text(json.dumps(steps(bool(args.model), args.out.resolve())))
        xvfb, display = start_xvfb()
        try:
            env = {
                **os.environ,
                "DISPLAY": display,
                "KIVY_HOME": str(temp / "kivy"),
                "KIVY_NO_ARGS": "1",
                "TF_CPP_MIN_LOG_LEVEL": "3",
            }
            completed = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "faceapp.autopilot",
                    "--steps",
                    str(temp / "steps.json"),
                    "--report",
                    str(temp / "report.json"),
                    "--",
                    "--camera",
                    str(video),
                    "--data-root",
                    str(data_root),
                ],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
        finally:
            xvfb.terminate()
            xvfb.wait(10)
        report = (
            json.loads((temp / "report.json").read_text())
            if (temp / "report.json").exists()
            else {}
        )
        if completed.returncode != 0 or report.get("error"):
            raise FaceappError(
                f"the app run failed: {report.get('error') or completed.stderr[-500:]}"
            )
    shown = report["final"]["summary"].splitlines()[0] or report["final"]["result"]
    print(f"wrote {args.out} ({shown or 'no decision'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
