"""The app's command line: ``python main.py [--camera SRC] [--data-root D] ...``.

Parsing is kept apart from the window so that ``--help`` and bad flags answer at once,
in one line, without starting Kivy. Nothing here imports Kivy or TensorFlow.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from faceapp.errors import FaceappError, OneLineParser
from faceapp.options import data_root_flag, liveness_flag, model_flags, parse_timeout, timeout_flag
from faceapp.paths import DataRoot
from faceapp.verification.rule import parse_threshold

DESCRIPTION = """\
Face verification with a live preview. Keys (also buttons in the window):
  a  save the face as an anchor        p  save it as a positive
  e  enrol it (verification images)    v  verify this frame
  t  verify for up to --timeout seconds   q / Esc  quit
"""

EPILOG = """\
First run: press e a few times to enrol your face, then v. Until you train a model of your
own (docs/training.md), the model shipped with faceapp runs.
Legacy .h5 models can run code when loaded: use only .h5 files from a trusted source
(.keras files are loaded in Keras safe mode).
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
    liveness: str = "passive"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="main.py",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[
            data_root_flag(),
            model_flags(),
            liveness_flag(),
            timeout_flag("seconds the 't' mode may take"),
        ],
    )
    parser.add_argument(
        "--camera",
        default="0",
        metavar="SRC",
        help="webcam index, video file or folder of images (default: 0)",
    )
    return parser


def parse_args(argv: list[str] | None = None) -> AppOptions:
    """Parse and validate; a bad value raises :class:`FaceappError` naming the flag."""
    args = build_parser().parse_args(argv)
    detection = (
        None
        if args.detection_threshold is None
        else parse_threshold(args.detection_threshold, "--detection-threshold")
    )
    verification = (
        None
        if args.verification_threshold is None
        else parse_threshold(args.verification_threshold, "--verification-threshold")
    )
    model = None
    if args.model:
        from faceapp.models.files import files_of

        try:
            files_of(args.model)  # checked now: a bad path is one line, before any window
        except FaceappError as error:
            raise FaceappError(f"--model: {error}") from None
        model = Path(args.model).expanduser()
    if not str(args.camera).strip():
        raise FaceappError("--camera must be a webcam index, a video file or a folder")
    data_root = DataRoot.resolve(args.data_root).ensure()
    return AppOptions(
        camera=str(args.camera).strip(),
        data_root=data_root,
        model=model,
        detection_threshold=detection,
        verification_threshold=verification,
        timeout=parse_timeout(args.timeout),
        runtime=args.runtime,
        liveness=args.liveness,
    )
