"""``python -m training.run``: train the Siamese face verifier on pairs and save it.

A thin command over :mod:`training.pairs.fit`: the flags, then
:func:`training.pairs.fit.train`, which splits the data 70/30 *before* pairing, fits with
checkpoints, evaluates on the validation pairs and saves the model, its int8 copy and
metadata (the app takes its detection threshold from it). Interrupted (Ctrl-C, kill, power
cut)? Run the same command again: it continues from the last checkpoint (see
:mod:`training.pairs.checkpoints`).
"""

from __future__ import annotations

import argparse
import os
import sys

from faceapp.errors import OneLineParser, cli_guard
from faceapp.keras import ARCHITECTURE_NAMES, DEFAULT_ARCHITECTURE
from faceapp.options import data_root_flag
from faceapp.vision.crops import DEFAULT_CROP, canonical_crop
from training.pairs import data as training_data
from training.pairs.data import CROPS, TREE_HELP
from training.pairs.distribute import STRATEGIES
from training.pairs.fit import PRECISIONS, train

EXAMPLES = """\
examples:
  # the owner's captures (anchor/ positive/ negative/ under the data root)
  python -m training.run --epochs 50
  # a general face verifier from an identity tree, holding out LFW pairs folds 7-8
  python -m training.run --tree ../shared/data/lfw --exclude-pairs ../shared/data/lfw/pairs.txt \\
      --exclude-folds 7-8 --epochs 20
  # then fine-tune it on the owner's captures
  python -m training.run --init-from application_data/models/siamese-XXXX.keras --epochs 10
  # a quick smoke test
  python -m training.run --architecture tiny --epochs 2 --steps-per-epoch 5

Interrupted? Run the same command again: it resumes from the last checkpoint.
Legacy .h5 models (--init-from) can run code when loaded: use only .h5 files from a trusted
source (.keras files load in Keras safe mode).
Several machines: set TF_CONFIG on each and run the same command (docs/training.md).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m training.run",
        description="Train the Siamese face verifier on pairs of face images and save it "
        "(.keras + metadata JSON + history CSV + plots) under <data root>/models/.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[data_root_flag()],
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "--source",
        choices=("owner", "tree", "both"),
        help="owner: anchor/positive/negative folders; tree: identity folders "
        "(--tree); both (default: tree when --tree is given, else owner)",
    )
    data.add_argument(
        "--tree",
        metavar="DIR",
        help=f"{TREE_HELP} (default: none)",
    )
    data.add_argument(
        "--tree-pairs",
        type=int,
        default=20000,
        metavar="N",
        help="pairs drawn from the tree, half same-person (default: 20000)",
    )
    data.add_argument(
        "--max-people",
        type=int,
        metavar="N",
        help="use only the first N people of the tree (default: all)",
    )
    training_data.add_held_out_arguments(data, example="7-8")
    data.add_argument(
        "--pairs-per-anchor",
        type=int,
        default=1,
        metavar="K",
        help="owner data: each anchor is paired with K positives and K negatives "
        "(default: 1, as the original tutorial)",
    )
    data.add_argument(
        "--crop",
        choices=CROPS,
        type=canonical_crop,  # an older spelling (detect) is still accepted
        default=DEFAULT_CROP,
        help="how faces are cut (faceapp.vision.crops): aligned by landmarks as the app "
        "does, detect (the Haar box of models trained before alignment) "
        f"or none (the whole image) (default: {DEFAULT_CROP})",
    )
    data.add_argument(
        "--val-fraction",
        type=float,
        default=0.3,
        metavar="F",
        help="share of people (tree) or images (owner) held out for validation (default: 0.3)",
    )
    data.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="random brightness, contrast, flip, JPEG quality and saturation "
        "on training images (default: off)",
    )
    data.add_argument(
        "--seed",
        type=int,
        default=42,
        help="seed for the split, the pairs, shuffling and weights (default: 42)",
    )

    model = parser.add_argument_group("model and training")
    model.add_argument(
        "--architecture",
        choices=sorted(ARCHITECTURE_NAMES),
        default=DEFAULT_ARCHITECTURE,
        help=f"embedding network (default: {DEFAULT_ARCHITECTURE}; tiny for tests)",
    )
    model.add_argument(
        "--init-from",
        metavar="MODEL",
        help="start from this trained model (.keras, or a .h5 from a trusted "
        "source) instead of random weights (default: none)",
    )
    model.add_argument("--epochs", type=int, default=50, help="epochs to train (default: 50)")
    model.add_argument(
        "--batch-size",
        type=int,
        default=16,
        metavar="N",
        help="pairs per step, over all devices and workers (default: 16)",
    )
    model.add_argument(
        "--learning-rate",
        type=float,
        default=1e-4,
        metavar="LR",
        help="Adam learning rate (default: 1e-4)",
    )
    model.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="fp32",
        help="bf16: mixed precision (bfloat16 maths, float32 weights), about 2x "
        "faster on CPUs with AVX512_BF16 and on recent GPUs; the saved "
        "model is float32 either way (default: fp32)",
    )
    model.add_argument(
        "--steps-per-epoch",
        type=int,
        metavar="N",
        help="steps per epoch (default: one pass over the training pairs)",
    )
    model.add_argument(
        "--early-stopping",
        type=int,
        default=0,
        metavar="PATIENCE",
        help="stop after PATIENCE epochs without a lower validation loss and keep "
        "the best weights (default: 0, off)",
    )
    model.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default="auto",
        help="auto: multi-worker when TF_CONFIG names several workers, mirrored "
        "when there are several GPUs, else one device (default: auto)",
    )

    out = parser.add_argument_group("checkpoints and output")
    out.add_argument(
        "--checkpoint-every",
        type=int,
        default=10,
        metavar="N",
        help="save a checkpoint every N epochs and at the end (default: 10)",
    )
    out.add_argument(
        "--fresh",
        action="store_true",
        help="ignore an unfinished run with the same settings instead of resuming it",
    )
    out.add_argument(
        "--tensorboard",
        action="store_true",
        help="also write TensorBoard logs into the run's checkpoint folder",
    )
    out.add_argument(
        "--output",
        "--out",
        dest="output",
        metavar="FILE",
        help="model file to write, .keras (default: a new unique name under models/); "
        "an existing file is never overwritten",
    )
    out.add_argument("--h5", action="store_true", help="also save a legacy .h5 copy of the model")
    out.add_argument(
        "--target-far",
        type=float,
        default=0.01,
        metavar="FAR",
        help="report the threshold giving this false-accept rate (default: 0.01)",
    )
    out.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        default=1,
        help="Keras output: 0 silent, 1 progress bar, 2 one line per epoch (default: 1)",
    )
    return parser


# --- settings and data ----------------------------------------------------------------------------


@cli_guard
def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    return train(args)


if __name__ == "__main__":
    sys.exit(main())
