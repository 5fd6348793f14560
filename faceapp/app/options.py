"""The window's command line: ``faceapp [--camera SRC] [--data-root D] ...`` (``make run``).

Parsing is kept apart from the window so that ``--help`` and bad flags answer at once,
in one line, without starting Kivy. Nothing here imports Kivy or TensorFlow.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from faceapp.errors import FaceappError, OneLineParser
from faceapp.options import data_root_flag, liveness_flag, model_flags, resolve, timeout_flag
from faceapp.paths import DataRoot
from faceapp.verification.rule import Thresholds

DESCRIPTION = """\
Face verification with a live preview. Keys (also buttons in the window):
  e  enrol your face                   v  verify this frame
  t  verify for up to --timeout seconds, checking liveness
  a  save the face as an anchor        p  save it as a positive (training)
  q / Esc  quit
"""

EPILOG = """\
First run: press e five times, turning your head a little between presses, then t.
The model shipped with faceapp runs until you choose another (faceapp-config set model ...).
Flags left out take the saved settings (faceapp-config), else the defaults.
Legacy .h5 models can run code when loaded: use only .h5 files from a trusted source.
"""


@dataclass(frozen=True)
class AppOptions:
    """Validated settings for one run of the app."""

    camera: str
    data_root: DataRoot
    model: str | None  # --model: a file or a shipped model's name; None: the usual choice
    detection_threshold: float | None
    verification_threshold: float | None
    timeout: float
    runtime: str = "int8"
    liveness: str = "passive"
    security: str | None = None  # None: the saved setting, else the model's default level


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="faceapp",
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
        metavar="SRC",
        help="webcam index, video file or folder of images (default: the saved setting, else 0)",
    )
    return parser


def parse_args(argv: list[str] | None = None) -> AppOptions:
    """Parse and validate; a bad value raises :class:`FaceappError` naming the flag."""
    args = build_parser().parse_args(argv)
    Thresholds.resolve(args.detection_threshold, args.verification_threshold)  # checked now
    if args.model:
        from faceapp.models.files import files_of

        try:
            files_of(args.model)  # checked now: a bad path is one line, before any window
        except FaceappError as error:
            raise FaceappError(f"--model: {error}") from None
    if args.camera is not None and not str(args.camera).strip():
        raise FaceappError("--camera must be a webcam index, a video file or a folder")
    data_root = DataRoot.resolve(args.data_root).ensure()
    chosen = resolve(args, data_root)
    return AppOptions(
        camera=str(chosen.camera or "0").strip(),
        data_root=data_root,
        model=args.model,
        detection_threshold=None
        if args.detection_threshold is None
        else float(args.detection_threshold),
        verification_threshold=None
        if args.verification_threshold is None
        else float(args.verification_threshold),
        timeout=chosen.timeout,
        runtime=args.runtime,
        liveness=chosen.liveness,
        security=chosen.security,
    )
