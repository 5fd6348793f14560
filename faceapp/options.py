"""Command-line flags shared by the app (``main.py``) and ``python -m faceapp.verify``.

Both choose a data root, a model and the two thresholds the same way; defining the flags
once keeps their names, help and defaults identical.
"""

from __future__ import annotations

import argparse

from faceapp.runtime import DEFAULT_RUNTIME, RUNTIMES


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """``--data-root``, ``--model``, ``--detection-threshold``, ``--verification-threshold``,
    ``--runtime``."""
    parser.add_argument("--data-root", metavar="DIR",
                        help="folder with captures and models (default: $FACEAPP_DATA_ROOT, "
                             "else application_data/ beside main.py)")
    parser.add_argument("--model", metavar="FILE",
                        help="trained model (.keras, or a trusted legacy .h5); "
                             "default: the newest under DATA_ROOT/models/")
    parser.add_argument("--detection-threshold", metavar="T",
                        help="a verification image matches when its score is above T "
                             "(0-1; default: from the model's metadata, else 0.5)")
    parser.add_argument("--verification-threshold", metavar="T",
                        help="verified when the fraction of matches is above T "
                             "(0-1; default: from the model's metadata, else 0.5)")
    parser.add_argument("--runtime", choices=RUNTIMES, default=DEFAULT_RUNTIME,
                        help="how the embedding runs: int8, an int8 TFLite copy of the model "
                             "(one face about 3.5x faster here; converted once per model and "
                             "cached), or keras, the float32 model; "
                             f"default: {DEFAULT_RUNTIME}")
