"""Command-line flags shared by the commands, declared once as argparse parent parsers.

Every command that takes a data root, a model, a security level, liveness or a timeout takes
the same flag with the same help (``parents=[...]``), so their names and meanings cannot
drift apart. A flag left out falls back to the saved settings (``faceapp-config``,
:mod:`faceapp.config`), then to the built-in default: :func:`resolve` applies that order.
Nothing here imports numpy, TensorFlow or Kivy, so ``--help`` answers at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from faceapp.errors import FaceappError, OneLineParser
from faceapp.liveness import DEFAULT_LIVENESS, LIVENESS_MODES
from faceapp.models import DEFAULT_RUNTIME, RUNTIMES
from faceapp.verification import DEFAULT_LEVEL, SECURITY_LEVELS

DEFAULT_TIMEOUT = 5.0  # seconds the multi-frame mode may take (app key t, verify --timeout)
SAVED = "(default: the saved setting, else {})"


def data_root_flag() -> OneLineParser:
    """``--data-root DIR``."""
    parser = OneLineParser(add_help=False)
    parser.add_argument(
        "--data-root",
        metavar="DIR",
        help="folder with enrolled faces, captures, models, settings and caches "
        "(default: $FACEAPP_DATA_ROOT, else application_data/ in a checkout, "
        "~/.local/share/faceapp when installed)",
    )
    return parser


def model_flags() -> OneLineParser:
    """``--model``, ``--security``, ``--detection-threshold``, ``--verification-threshold``,
    ``--runtime``."""
    parser = OneLineParser(add_help=False)
    parser.add_argument(
        "--model",
        metavar="FILE",
        help="model to use: a shipped model's name (e.g. faceapp-aligned-v1) or a file "
        "(.keras, .int8.tflite or .json; a .h5 only from a trusted source) "
        + SAVED.format(
            "the newest trained if it measured as well as the shipped one, else the shipped one"
        ),
    )
    parser.add_argument(
        "--security",
        choices=SECURITY_LEVELS,
        help="standard: at most 1 stranger in 1,000 let in; high: 1 in 10,000, at the cost "
        "of asking the owner again more often (measured: docs/accuracy.md) "
        + SAVED.format(DEFAULT_LEVEL),
    )
    parser.add_argument(
        "--detection-threshold",
        metavar="T",
        help="experts: the score a match must be above, instead of the security level's "
        "(0-1, below 1)",
    )
    parser.add_argument(
        "--verification-threshold",
        metavar="T",
        help="experts, models with the vote rule: verified when more than this fraction of "
        "the enrolled faces match (0-1, below 1; default: the model's, else 0.5)",
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
    """``--timeout S``, checked by :func:`parse_timeout`."""
    parser = OneLineParser(add_help=False)
    parser.add_argument(
        "--timeout", metavar="S", default=None, help=f"{help_text} {SAVED.format(DEFAULT_TIMEOUT)}"
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
        help="passive: over several frames, a face must also move like a "
        "live, three-dimensional head, not like a photo or a screen "
        "held up to the camera (move your head a little); off: no "
        "check. One photo or one frame is never checked " + SAVED.format(DEFAULT_LIVENESS),
    )
    return parser


@dataclass(frozen=True)
class Choices:
    """What a command runs with: each flag, else the saved setting, else the default (the
    model is chosen by :func:`faceapp.models.files.choose_model`, which reads its own)."""

    security: str | None  # None: the model's default level (or it has none)
    liveness: str
    timeout: float
    camera: str | None


def resolve(args, root) -> Choices:
    """The flags of ``args`` (those a command has) over the settings saved in ``root``."""
    from faceapp.config import load_config

    saved = load_config(root)

    def pick(name: str):
        value = getattr(args, name, None)
        return value if value is not None else getattr(saved, name)

    timeout = getattr(args, "timeout", None)
    return Choices(
        security=pick("security"),
        liveness=pick("liveness") or DEFAULT_LIVENESS,
        timeout=parse_timeout(timeout) if timeout is not None else saved.timeout or DEFAULT_TIMEOUT,
        camera=pick("camera"),
    )
