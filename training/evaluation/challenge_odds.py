"""A recording's odds against the challenge: every order of prompts tried on the same replay.

A recording does not hear the prompts: what it plays is fixed, and only the prompts drawn
decide whether it gets through. One random draw per replay (``training.evaluate
challenge``) therefore measures each replay with one coin toss; trying **every ordered
sequence** of movements on it (12 for two movements, 24 for three) gives its exact chance,
and the mean over replays is the APCER a user's prompts would meet, with far less noise for
the same renders.

Each replay is rendered once, its face search and per-frame identity judgements made once
(:class:`Remembered`), then :func:`faceapp.verification.frames.verify_frames` — what the
app runs — is run once per order with a challenge that asks that order. Variants of the
challenge (more movements, a shorter answer window) are tried on the same replays, so they
can be compared pair by pair.

    python -m training.evaluation.challenge_odds --videos ../shared/data/videos \\
        --out odds.jsonl --replays 50 --seconds 10

Every replay's line is appended to ``--out`` as it ends; a run started again skips those
already there (a killed run resumes). The replays are those ``training.evaluate challenge``
draws for the same seed (the same starting points and render seeds, per clip), only longer:
a recording has all the time the challenge allows.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from faceapp.errors import OneLineParser, cli_guard
from training.evaluation.challenge import (
    Recording,
    journal_append,
    journal_rows,
    owner_of,
    replay_frames,
    replays_of,
    trial_key,
)

VARIANTS = {  # name -> (movements, seconds to answer each, soonest answer in seconds)
    "2 moves, 3 s": (2, 3.0, 0.0),
    "2 moves, 2 s": (2, 2.0, 0.0),
    "3 moves, 3 s": (3, 3.0, 0.0),
    "2 moves, 2 s, none before 0.3 s": (2, 2.0, 0.3),  # shipped
}


class Remembered:
    """A recording's face search and identity judgements, made once and answered again by
    frame (it stands in for both the finder and the verifier in :func:`verify_frames`)."""

    def __init__(self, verifier, frames: list[np.ndarray]):
        from faceapp.vision.finder import FaceFinder

        finder = FaceFinder(track=True)
        self.faces = {id(frame): finder.find(frame) for frame in frames}
        self.judged = {
            id(frame): verifier.judge(frame, self.faces[id(frame)], searched=True)
            for frame in frames
        }

    def find(self, frame):
        return self.faces[id(frame)]

    def judge(self, frame, face=None, searched=False):
        return self.judged[id(frame)]


@contextmanager
def answer_window(seconds: float, soonest: float):
    """The challenge's time for each answer set to ``seconds``, and its soonest answer to
    ``soonest``, while inside."""
    from faceapp.liveness import challenge

    shipped = challenge.ANSWER_SECONDS, challenge.SOONEST
    challenge.ANSWER_SECONDS, challenge.SOONEST = seconds, soonest
    try:
        yield
    finally:
        challenge.ANSWER_SECONDS, challenge.SOONEST = shipped


def passes(remembered: Remembered, frames, order: tuple[str, ...], timeout: float) -> bool:
    """Whether the recording gets through a challenge that asks ``order``."""
    from faceapp.liveness.challenge import ChallengeCheck, Step
    from faceapp.liveness.combined import AllOf
    from faceapp.liveness.passive import MotionCheck
    from faceapp.verification.frames import verify_frames

    def asking(mode, on_prompt, clock):
        challenge = ChallengeCheck(len(order), clock=clock)
        challenge.steps = [Step.of(move) for move in order]
        return AllOf([MotionCheck(), challenge])

    source = Recording(frames)
    watched = verify_frames(
        remembered, source, timeout, liveness="challenge", check=asking, finder=remembered
    )
    return bool(watched.decision is not None and watched.decision.verified)


def odds(verifier, frames, timeout: float = 5.0, variants=VARIANTS) -> dict:
    """Per variant: the orders tried and how many the recording passed."""
    from faceapp.liveness.challenge import MOVES

    remembered = Remembered(verifier, frames)
    out = {}
    for name, (steps, seconds, soonest) in variants.items():
        orders = list(itertools.permutations(MOVES, steps))
        with answer_window(seconds, soonest):
            passed = sum(passes(remembered, frames, order, timeout) for order in orders)
        out[name] = {"orders": len(orders), "passed": passed}
    return out


def measure(
    clips, root_folder: Path, out: Path, kinds, replays: int, seconds: float, seed: int,
    first: int | None = None, stills: int = 5, variants=VARIANTS,
):  # fmt: skip
    """Every order on the replays of each clip and kind (the first ``first`` of the
    ``replays`` and ``stills`` that ``training.evaluate challenge`` draws); one JSON line per
    replay."""
    done = journal_rows(out)
    for clip in clips:
        verifier = owner_of(clip, root_folder)
        for replay in replays_of(clip, seed, replays, stills):
            row = {"material": replay.kind, "clip": clip.stem, "trial": replay.number}
            row["mode"] = "odds"
            wanted = replay.kind in kinds and (first is None or replay.number < first)
            if not wanted or trial_key(row) in done:
                continue
            frames = replay_frames(clip, replay, seconds)
            chances = odds(verifier, frames, variants=variants)
            row.update(start=replay.start, seed=replay.seed, **chances)
            journal_append(out, row)
            print(json.dumps(row), flush=True)


def summary(rows: list[dict]) -> dict:
    """Per kind and variant: the mean chance over replays (the APCER), the replays with any
    chance at all, and the replays counted."""
    out: dict = {}
    for row in rows:
        for name in VARIANTS:
            if name not in row:
                continue
            cell = out.setdefault(f"{row['material']} / {name}", {"chances": [], "any": 0})
            chance = row[name]["passed"] / row[name]["orders"]
            cell["chances"].append(chance)
            cell["any"] += int(chance > 0)
    for cell in out.values():
        chances = cell.pop("chances")
        cell["replays"] = len(chances)
        cell["apcer"] = float(np.mean(chances)) if chances else None
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m training.evaluation.challenge_odds",
        description="Try every order of prompts on replays of the clips: each replay's "
        "exact chance against the challenge, for the shipped challenge and variants.",
    )
    parser.add_argument("--videos", required=True, metavar="DIR", help="the clips (.mp4)")
    parser.add_argument("--out", required=True, metavar="FILE", help="JSON lines, appended")
    parser.add_argument(
        "--kinds", nargs="+", default=["monitor"], help="replay kinds (default: monitor)"
    )
    parser.add_argument(
        "--replays", type=int, default=50, help="drawn per clip and kind (default: 50)"
    )
    parser.add_argument(
        "--first", type=int, metavar="N", help="try only the first N of them (default: all)"
    )
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="each replay's length (default: 10)"
    )
    parser.add_argument("--seed", type=int, default=7, help="replay seed (default: 7)")
    parser.add_argument(
        "--variants", nargs="+", choices=list(VARIANTS), metavar="NAME",
        help=f"variants to try (default: all: {', '.join(repr(v) for v in VARIANTS)})",
    )  # fmt: skip
    parser.add_argument(
        "--enrolled", metavar="DIR", help="where each clip's owner is enrolled (default: temp)"
    )
    return parser


@cli_guard
def main(argv: list[str] | None = None) -> int:
    import tempfile

    args = build_parser().parse_args(argv)
    from training.attacks import clips_in

    clips = clips_in(args.videos)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="faceapp-odds-") as enrolled:
        measure(
            clips, Path(args.enrolled or enrolled), out, set(args.kinds), args.replays,
            args.seconds, args.seed, args.first,
            variants={name: VARIANTS[name] for name in args.variants or VARIANTS},
        )  # fmt: skip
    rows = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    for key, cell in summary(rows).items():
        print(
            f"{key}: mean chance {cell['apcer']:.2%} over {cell['replays']} replays "
            f"({cell['any']} with any chance)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
