"""Command-line flags shared by the commands, declared once as argparse parent parsers.

Every command that takes a data root, a model or a timeout takes the same flag with the
same help and default (``parents=[...]``), so their names and meanings cannot drift apart.
Nothing here imports TensorFlow or Kivy.
"""

from __future__ import annotations

import math

from faceapp.errors import FaceappError, OneLineParser
from faceapp.liveness import DEFAULT_LIVENESS, LIVENESS_MODES
from faceapp.models import DEFAULT_RUNTIME, RUNTIMES

DEFAULT_TIMEOUT = 5.0  # seconds the multi-frame mode may take (app key t, verify --timeout)


def data_root_flag() -> OneLineParser:
    """``--data-root DIR``."""
    parser = OneLineParser(add_help=False)
    parser.add_argument(
        "--data-root",
        metavar="DIR",
        help="folder with captures, verification images, models and caches "
        "(default: $FACEAPP_DATA_ROOT, else application_data/ beside "
        "main.py)",
    )
    return parser


def model_flags() -> OneLineParser:
    """``--model``, ``--detection-threshold``, ``--verification-threshold``, ``--runtime``."""
    parser = OneLineParser(add_help=False)
    parser.add_argument(
        "--model",
        metavar="FILE",
        help="model to use (.keras, .int8.tflite or .json of a model; a .h5 "
        "only from a trusted source); default: the newest trained under "
        "DATA_ROOT/models/, else the shipped model",
    )
    parser.add_argument(
        "--detection-threshold",
        metavar="T",
        help="a verification image matches when its score is above T "
        "(0-1; default: from the model's metadata, else 0.5)",
    )
    parser.add_argument(
        "--verification-threshold",
        metavar="T",
        help="verified when the fraction of matches is above T "
        "(0-1; default: from the model's metadata, else 0.5)",
    )
    parser.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default=DEFAULT_RUNTIME,
        help="int8: the model's int8 copy on LiteRT (no TensorFlow; the "
        "default); keras: the float32 Keras model (needs TensorFlow and "
        "a model trained here)",
    )
    return parser


def timeout_flag(help_text: str) -> OneLineParser:
    """``--timeout S`` (default :data:`DEFAULT_TIMEOUT`), checked by :func:`parse_timeout`."""
    parser = OneLineParser(add_help=False)
    parser.add_argument(
        "--timeout", metavar="S", default=None, help=f"{help_text} (default: {DEFAULT_TIMEOUT:g})"
    )
    return parser


def parse_timeout(value: str | float | None) -> float:
    """A timeout in seconds (``None``: the default); a one-line error otherwise."""
    if value is None:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        raise FaceappError(f"--timeout must be a number of seconds, got {value!r}") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise FaceappError(f"--timeout must be a positive number of seconds, got {value!r}")
    return seconds


def liveness_flag() -> OneLineParser:
    """``--liveness off|passive``: whether the multi-frame modes also check for a live face."""
    parser = OneLineParser(add_help=False)
    parser.add_argument(
        "--liveness",
        choices=LIVENESS_MODES,
        default=DEFAULT_LIVENESS,
        help="passive: over several frames, a face must also move like a "
        "live, three-dimensional head, not like a photo or a screen "
        "held up to the camera (move your head a little); off: no "
        f"check. One photo or one frame is never checked (default: "
        f"{DEFAULT_LIVENESS})",
    )
    return parser
