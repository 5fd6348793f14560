"""The app's command line: ``python main.py [--camera SRC] [--data-root D] ...``.

Parsing is kept apart from the window so that ``--help`` and bad flags answer at once,
in one line, without starting Kivy. Nothing here imports Kivy or TensorFlow.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from faceapp.errors import FaceappError, OneLineParser
from faceapp.metadata import parse_threshold
from faceapp.options import add_model_options
from faceapp.paths import DataRoot

DEFAULT_TIMEOUT = 5.0

DESCRIPTION = """\
Face verification with a live preview. Keys (also buttons in the window):
  a  save the face as an anchor        p  save it as a positive
  e  enrol it (verification images)    v  verify this frame
  t  verify for up to --timeout seconds   q / Esc  quit
"""

EPILOG = """\
Legacy .h5 models can run code when loaded: use only .h5 files from a trusted source
(.keras files are loaded in Keras safe mode). No model yet? Capture anchors and positives
with a / p, then train one: python -m training.run
"""


@dataclass(frozen=True)
class AppOptions:
    """Validated settings for one run of the app."""

    camera: str
    data_root: DataRoot
    model: Path | None
    detection_threshold: float | None
    verification_threshold: float | None
    timeout: float
    runtime: str = "int8"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="main.py", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--camera", default="0", metavar="SRC",
                        help="webcam index, video file or folder of images (default: 0)")
    add_model_options(parser)
    parser.add_argument("--timeout", metavar="S", default=str(DEFAULT_TIMEOUT),
                        help=f"seconds the 't' mode may take (default: {DEFAULT_TIMEOUT:g})")
    return parser


def parse_timeout(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise FaceappError(f"--timeout must be a number of seconds, got {value!r}") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise FaceappError(f"--timeout must be a positive number of seconds, got {value!r}")
    return seconds


def parse_args(argv: list[str] | None = None) -> AppOptions:
    """Parse and validate; a bad value raises :class:`FaceappError` naming the flag."""
    args = build_parser().parse_args(argv)
    detection = (None if args.detection_threshold is None
                 else parse_threshold(args.detection_threshold, "--detection-threshold"))
    verification = (None if args.verification_threshold is None
                    else parse_threshold(args.verification_threshold, "--verification-threshold"))
    model = None
    if args.model:
        model = Path(args.model).expanduser()
        if not model.is_file():
            raise FaceappError(f"--model: model file not found: {model}")
    if not str(args.camera).strip():
        raise FaceappError("--camera must be a webcam index, a video file or a folder")
    data_root = DataRoot.resolve(args.data_root)
    try:
        data_root.ensure()
    except OSError as error:
        raise FaceappError(f"cannot use data root {data_root.root}: "
                           f"{error.strerror or error}") from None
    return AppOptions(
        camera=str(args.camera).strip(),
        data_root=data_root,
        model=model,
        detection_threshold=detection,
        verification_threshold=verification,
        timeout=parse_timeout(args.timeout),
        runtime=args.runtime,
    )


def display_problem() -> str | None:
    """Why no window can open here (Linux without X11 or Wayland), or None."""
    import os

    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return "no display to open the window on (set DISPLAY, or run under xvfb-run)"
    return None
