"""Make the README screenshot: the first run, for real, on a real clip, under Xvfb.

    python scripts/screenshot.py [--video CLIP] [--out docs/screenshot.png]

A temporary data root and the model a new user gets (the shipped one): the app enrols the
face five times with ``e``, then decides with ``t`` (liveness included), and the window is
captured. The clip is the shared talking head ``WDA_KatieHill_000.mp4`` (``--videos``,
default ``$FACEAPP_VIDEOS`` or ``../shared/data/videos``) unless ``--video`` is given.
Needs Xvfb.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.data import videos_root  # noqa: E402
from faceapp.app.autopilot import start_xvfb  # noqa: E402
from faceapp.errors import FaceappError, OneLineParser, cli_guard  # noqa: E402

CLIP = "WDA_KatieHill_000.mp4"


def steps(out: Path) -> list[dict]:
    plan: list[dict] = [{"wait": "frames", "count": 5}]
    for _ in range(5):
        plan += [{"key": "e"}, {"sleep": 0.4}]
    plan += [
        {"wait": "idle", "timeout": 60},
        {"wait": "ready", "timeout": 60},
        {"key": "t"},
        {"wait": "idle", "timeout": 60},
        {"sleep": 0.3},
        {"screenshot": str(out)},
    ]
    return plan


@cli_guard
def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--video", type=Path, help=f"the clip to show (default: {CLIP})")
    parser.add_argument("--videos", help="the shared clips' folder")
    args = parser.parse_args(argv)
    if shutil.which("Xvfb") is None:
        raise FaceappError("Xvfb is not installed (make system-packages)")
    video = args.video
    if video is None:
        folder = videos_root(args.videos)
        if folder is None:
            raise FaceappError("no clip: give --video, or --videos with the shared clips")
        video = folder / CLIP
    with tempfile.TemporaryDirectory(prefix="faceapp-shot-") as temp:
        work = Path(temp)
        (work / "steps.json").write_text(json.dumps(steps(args.out.resolve())))
        xvfb, display = start_xvfb()
        try:
            env = {
                **os.environ,
                "DISPLAY": display,
                "KIVY_HOME": str(work / "kivy"),
                "KIVY_NO_ARGS": "1",
            }
            completed = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "faceapp.app.autopilot",
                    "--steps",
                    str(work / "steps.json"),
                    "--report",
                    str(work / "report.json"),
                    "--",
                    "--camera",
                    str(video),
                    "--data-root",
                    str(work / "data"),
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
        report_file = work / "report.json"
        report = json.loads(report_file.read_text()) if report_file.exists() else {}
        if completed.returncode != 0 or report.get("error"):
            raise FaceappError(
                f"the app run failed: {report.get('error') or completed.stderr[-500:]}"
            )
    print(f"wrote {args.out} ({report['final']['summary'].splitlines()[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
