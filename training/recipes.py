"""Training recipes, one command each (results and times in docs/accuracy.md).

``identity-pretrain``: pre-train the embedding as an identity classifier (CosFace margin
loss) over the people of an identity tree with augmentation, then fit the Siamese head
(``L1Dist -> Dense(1, sigmoid)``) on pairs of *other* people, and save a model the app and
``training.evaluate`` use like any other::

    python -m training.recipes identity-pretrain --tree ../shared/data/lfw \\
        --exclude-pairs ../shared/data/lfw/pairs.txt --exclude-folds 4-5

Hold out the LFW pairs folds you will score on (``--exclude-folds``): nobody in them is
trained on or used for the threshold. Interrupted? Run the same command again: it resumes
from the last finished epoch (Keras ``BackupAndRestore`` under ``checkpoints/``).
"""

from __future__ import annotations

import argparse
import os
import sys

from faceapp.errors import OneLineParser, cli_guard
from faceapp.keras import ARCHITECTURE_NAMES
from faceapp.options import data_root_flag
from faceapp.vision.crops import DEFAULT_CROP, canonical_crop
from training.identity import classifier as identity
from training.identity.pretrain import identity_pretrain
from training.pairs.data import CROPS, TREE_HELP, add_held_out_arguments


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m training.recipes", description="Training recipes (docs/accuracy.md)."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="RECIPE")
    p = commands.add_parser(
        "identity-pretrain",
        parents=[data_root_flag()],
        help="CosFace identity pre-training of the embedding, then the head",
    )
    p.add_argument("--tree", required=True, metavar="DIR", help=TREE_HELP)
    add_held_out_arguments(p)
    p.add_argument(
        "--output",
        "--out",
        dest="output",
        metavar="FILE",
        help="model file (.keras; default: models/<unique>)",
    )
    p.add_argument(
        "--crop",
        choices=CROPS,
        type=canonical_crop,  # an older spelling (detect) is still accepted
        default=DEFAULT_CROP,
        help=f"how faces are cut (faceapp.vision.crops; default: {DEFAULT_CROP}, the app's)",
    )
    p.add_argument(
        "--architecture",
        choices=sorted(ARCHITECTURE_NAMES),
        default="compact",
        help="embedding network (default: compact)",
    )
    p.add_argument(
        "--min-images",
        type=int,
        default=2,
        metavar="N",
        help="people with at least N images become classes; 1 makes each "
        "single-image person a class too (default: 2)",
    )
    p.add_argument(
        "--max-images",
        type=int,
        default=50,
        metavar="N",
        help="at most N images per class person (default: 50)",
    )
    p.add_argument(
        "--head-fraction",
        type=float,
        default=0.1,
        metavar="F",
        help="share of people kept out of the classifier for the head (default: 0.1)",
    )
    p.add_argument(
        "--head-pairs",
        type=int,
        default=6000,
        metavar="N",
        help="pairs of head people that fit the head and threshold (default: 6000)",
    )
    p.add_argument(
        "--loss",
        choices=("cosface", "softmax"),
        default="cosface",
        help="cosface (margin) or softmax (normalised, margin 0) (default: cosface)",
    )
    p.add_argument("--margin", type=float, default=0.35, help="CosFace margin (default: 0.35)")
    p.add_argument("--scale", type=float, default=30.0, help="CosFace scale (default: 30)")
    p.add_argument(
        "--teacher",
        choices=("dlib",),
        help="also distil a teacher's embeddings into the network: dlib, which "
        "needs pip install -r requirements-teacher.txt at training time only; "
        "the app never needs it (default: no teacher)",
    )
    p.add_argument(
        "--teacher-weight",
        type=float,
        default=10.0,
        metavar="W",
        help="weight of the distillation loss 1 - cos(student, teacher) beside the "
        "identity loss (default: 10)",
    )
    p.add_argument(
        "--teacher-views",
        type=int,
        default=1,
        metavar="K",
        help="with --teacher: distil K views of every photo (the aligned photo "
        "and K-1 augmented copies, each embedded by the teacher once and "
        "cached; training.identity.views) instead of one; needs --crop aligned "
        "(default: 1)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=2,
        metavar="N",
        help="processes that embed with the teacher (default: 2)",
    )
    p.add_argument(
        "--teacher-singles",
        action="store_true",
        help="with --teacher: also distil the photos of single-image people (no "
        "class for them); the head is then fitted on held-back people with "
        "2+ images only",
    )
    p.add_argument(
        "--head",
        choices=identity.HEADS,
        default="tied",
        help="the Dense(1) head on |e(a) - e(b)|: tied (one weight for every "
        "dimension, a function of the L1 distance) or free (one weight each) "
        "(default: tied; it measured better, docs/accuracy.md)",
    )
    p.add_argument(
        "--no-mirror-average",
        action="store_true",
        help="do not build the mirror average into the saved embedding (by "
        "default each face is embedded with its mirror image and the two "
        "averaged: two passes per face, better accuracy)",
    )
    p.add_argument(
        "--calibration-owners",
        type=int,
        default=3,
        metavar="N",
        help="people with the most photos (more than --calibration-enroll) held "
        "out of training to choose the app's detection threshold under its "
        "vote; 0 uses the best-accuracy threshold on head pairs (default: 3)",
    )
    p.add_argument(
        "--calibration-enroll",
        type=int,
        default=50,
        metavar="N",
        help="verification images per calibration owner, as the app would have (default: 50)",
    )
    p.add_argument(
        "--calibration-impostors",
        type=int,
        default=500,
        metavar="N",
        help="single-photo people held out as the calibration owners' strangers (default: 500)",
    )
    p.add_argument(
        "--members",
        type=int,
        default=1,
        metavar="N",
        help="train N embedding networks (seeds --seed, --seed+1, ...) and save "
        "them side by side as one embedding (an ensemble): N times the "
        "training and the per-face cost (default: 1)",
    )
    p.add_argument(
        "--member-views",
        default="full",
        metavar="VIEW[,VIEW...]",
        help="what each member looks at, in turn: full (the whole face crop) "
        "or inner (its central 72%% square, resized: the face without hair "
        "and background); e.g. full,inner (default: full)",
    )
    p.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="random crops, flips and colour on training faces (default: on)",
    )
    p.add_argument("--epochs", type=int, default=30, help="epochs (default: 30)")
    p.add_argument(
        "--steps-per-epoch",
        type=int,
        metavar="N",
        help="steps per epoch (default: one pass over the class images)",
    )
    p.add_argument("--batch-size", type=int, default=64, metavar="N", help="default: 64")
    p.add_argument(
        "--learning-rate",
        type=float,
        default=2e-3,
        metavar="LR",
        help="peak Adam learning rate, cosine-decayed to 1%% (default: 2e-3)",
    )
    p.add_argument(
        "--weight-decay",
        type=float,
        default=5e-4,
        metavar="WD",
        help="AdamW weight decay (default: 5e-4)",
    )
    p.add_argument(
        "--max-minutes",
        type=float,
        metavar="M",
        help="stop pre-training (of each member) after M minutes of fitting (default: no limit)",
    )
    p.add_argument("--seed", type=int, default=42, help="default: 42")
    p.add_argument("--verbose", type=int, choices=(0, 1, 2), default=2)
    return parser


COMMANDS = {"identity-pretrain": identity_pretrain}


@cli_guard
def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    COMMANDS[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
