"""Replay attacks, made: videos of a still photo held up to the camera, printed or on a screen.

A presentation attack on a webcam shows the camera a flat picture of the owner. Each video
made here is one such attempt, rendered from a still (a frame of a real clip, or an LFW
photo):

* the picture is a flat rectangle in front of a pinhole camera, held by a hand: it drifts,
  turns (roll), tilts (yaw and pitch: perspective), comes nearer and moves away along smooth
  random paths, with a hand's tremor on top (:func:`hand_path`);
* ``print``: paper — duller contrast, a warm cast, the paper's grain (fixed to the sheet),
  a white margin; ``screen``: a phone or monitor — a pixel grid that aliases into moire on
  the camera, a cooler, brighter picture, a black bezel; both catch a soft glare that stays
  where the light is while the picture moves;
* the camera: motion blur (sub-frames averaged), sensor noise, and the video codec.

Everything is seeded: ``python -m training.attacks`` writes the same files every time, and a
``manifest.json`` that says what each is made of. The liveness evaluation
(``training.evaluate liveness``) measures how many of them pass as live.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from faceapp.errors import FaceappError, OneLineParser, cli_guard
from faceapp.vision.imaging import read_image

KINDS = ("print", "screen")  # a still photo, held up
VIDEO_KINDS = ("phone", "monitor")  # a video of the owner, on a hand-held phone or a monitor
FRAME_SIZE = (640, 480)
FPS = 25.0
SUBFRAMES = 3  # renders averaged into one frame: the motion blur of a 1/50 s exposure
SUPERSAMPLE = 2  # rendered this many times larger, then area-averaged: a lens's blur
FOCAL = 620.0  # the camera's focal length in pixels (a laptop webcam's ~55 deg field)


@dataclass(frozen=True)
class Attack:
    """One replay video: where its picture comes from, how it is shown, its seed."""

    file: str
    kind: str
    source: str  # the still: "<clip>@<frame>" or an LFW photo "<Person>/<file>"
    seed: int


def hand_path(rng: np.random.Generator, frames: int, fps: float = FPS) -> np.ndarray:
    """``(frames * SUBFRAMES, 6)`` poses: yaw, pitch, roll (degrees), x, y (fractions of the
    sheet's height) and distance (multiples of the starting distance), each a sum of slow
    random sways plus a little tremor."""
    t = np.arange(frames * SUBFRAMES) / (fps * SUBFRAMES)
    amplitude = np.array(
        [
            rng.uniform(4, 20),
            rng.uniform(4, 15),
            rng.uniform(2, 10),
            rng.uniform(0.03, 0.15),
            rng.uniform(0.03, 0.12),
            rng.uniform(0.03, 0.15),
        ]
    )
    path = np.zeros((len(t), 6))
    for axis in range(6):
        for _ in range(3):
            frequency, phase = rng.uniform(0.1, 1.2), rng.uniform(0, 2 * math.pi)
            path[:, axis] += amplitude[axis] / 3 * np.sin(2 * math.pi * frequency * t + phase)
        tremor = rng.uniform(4, 9)
        path[:, axis] += (
            amplitude[axis] * 0.04 * np.sin(2 * math.pi * tremor * t + rng.uniform(0, 6.3))
        )
    path[:, 5] += 1.0
    return path


def plane_homography(
    pose: np.ndarray, sheet: tuple[int, int], distance: float, centre: tuple[float, float]
) -> np.ndarray:
    """The 3x3 map from the sheet's pixels to the camera frame, for one pose."""
    yaw, pitch, roll = np.radians(pose[:3])
    width, height = sheet
    cy, sy = math.cos(yaw), math.sin(yaw)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cr, sr = math.cos(roll), math.sin(roll)
    rotation = (
        np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
        @ np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
        @ np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    )
    # sheet pixel (u, v) -> metric point on the sheet, centred; the sheet is `height` units tall
    to_sheet = np.array([[1, 0, -width / 2], [0, 1, -height / 2], [0, 0, 1]], float)
    translation = np.array([pose[3] * height, pose[4] * height, pose[5] * distance])
    camera = np.array([[FOCAL, 0, centre[0]], [0, FOCAL, centre[1]], [0, 0, 1]])
    extrinsic = np.column_stack([rotation[:, 0], rotation[:, 1], translation])
    return camera @ extrinsic @ to_sheet


def dress(still: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """The still as it looks on paper or on a screen, with margin or bezel."""
    image = still.astype(np.float32) / 255.0
    height, width = image.shape[:2]
    if kind == "print":
        image = 0.5 + (image - 0.5) * rng.uniform(0.6, 0.85) + rng.uniform(0.0, 0.08)
        image *= np.array([rng.uniform(0.85, 0.95), rng.uniform(0.92, 1.0), 1.0])  # BGR: warm
        grain = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 0.8)
        image += grain[:, :, None] * rng.uniform(0.01, 0.03)
        border, colour = int(0.08 * height), (0.93, 0.95, 0.96)
    else:
        image = np.clip(image * rng.uniform(1.0, 1.2), 0, 1) ** rng.uniform(0.8, 1.0)
        image *= np.array([1.0, rng.uniform(0.95, 1.0), rng.uniform(0.85, 0.95)])  # BGR: cool
        # the screen's pixel grid: a fine grating that the camera samples into moire
        pitch = rng.uniform(2.2, 3.5)
        v, u = np.mgrid[0:height, 0:width].astype(np.float32)
        grid = (0.5 + 0.5 * np.cos(2 * np.pi * u / pitch)) * (
            0.5 + 0.5 * np.cos(2 * np.pi * v / pitch)
        )
        image *= (1 - rng.uniform(0.15, 0.35)) + rng.uniform(0.15, 0.35) * grid[:, :, None]
        border, colour = int(0.05 * height), (0.02, 0.02, 0.02)
    image = np.clip(image, 0, 1)
    return cv2.copyMakeBorder(
        (image * 255).astype(np.uint8),
        border,
        border,
        border,
        border,
        cv2.BORDER_CONSTANT,
        value=tuple(int(c * 255) for c in colour),
    )


def background(rng: np.random.Generator, size=FRAME_SIZE) -> np.ndarray:
    """A room behind the sheet: smooth, dull random colours with some blurred structure."""
    width, height = size
    small = (rng.uniform(50, 190, (6, 8, 1)) + rng.uniform(-18, 18, (6, 8, 3))).astype(np.float32)
    field = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    detail = cv2.GaussianBlur(
        rng.uniform(-30, 30, (height, width, 3)).astype(np.float32), (0, 0), 6
    )
    return np.clip(field + detail, 0, 255).astype(np.uint8)


def steady_path(rng: np.random.Generator, frames: int) -> np.ndarray:
    """A monitor on a desk: one pose held (turned and tilted a little towards the camera),
    no sway; the same layout as :func:`hand_path`."""
    pose = np.array([rng.uniform(-25, 25), rng.uniform(-12, 12), rng.uniform(-2, 2), 0.0, 0.0, 1.0])
    return np.tile(pose, (frames * SUBFRAMES, 1))


def render(
    still: np.ndarray | list[np.ndarray],
    kind: str,
    seconds: float,
    seed: int,
    size=FRAME_SIZE,
    fps: float = FPS,
) -> list[np.ndarray]:
    """The frames of one replay attack (BGR uint8): a still (``print``, ``screen``: held up
    by a hand) or a video's frames (``phone``: on a hand-held phone; ``monitor``: on a
    screen standing still at an angle), played at ``fps``."""
    rng = np.random.default_rng(seed)
    video = isinstance(still, list)
    pictures = still if isinstance(still, list) else [still]
    look = "screen" if kind in VIDEO_KINDS else kind
    dress_seed = int(rng.integers(0, 2**31))  # one dressing for every frame of a video
    sheets = [dress(p, look, np.random.default_rng(dress_seed)) for p in pictures[:1]]
    sheet = sheets[0]
    sheet_h, sheet_w = sheet.shape[:2]
    width, height = size
    frames = int(round(seconds * fps))
    path = steady_path(rng, frames) if kind == "monitor" else hand_path(rng, frames, fps)
    # the sheet fills 55-85% of the frame's height at the start
    distance = FOCAL * sheet_h / (rng.uniform(0.55, 0.85) * height)
    centre = (width / 2 + rng.uniform(-40, 40), height / 2 + rng.uniform(-30, 30))
    room = background(rng, size).astype(np.float32)
    glare_at = rng.uniform(0.2, 0.8, 2) * np.array([width, height])
    glare_size, glare_strength = rng.uniform(40, 140), rng.uniform(0.0, 0.35)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    glare = glare_strength * np.exp(
        -((xx - glare_at[0]) ** 2 + (yy - glare_at[1]) ** 2) / (2 * glare_size**2)
    )
    noise = rng.uniform(1.5, 5.0)
    mask_src = np.full((sheet_h, sheet_w), 255, np.uint8)
    # sampling the sheet straight onto the frame's pixels would alias its fine detail into
    # patterns that crawl as it moves (no camera does that: its lens blurs first), so each
    # render is made SUPERSAMPLE times larger and area-averaged down
    zoom = np.diag([SUPERSAMPLE, SUPERSAMPLE, 1.0])
    big = (width * SUPERSAMPLE, height * SUPERSAMPLE)
    out = []
    for k in range(frames):
        if video:  # this frame's picture, dressed as the first was
            sheet = dress(pictures[k % len(pictures)], look, np.random.default_rng(dress_seed))
        acc = np.zeros((height, width, 3), np.float32)
        for s in range(SUBFRAMES):
            h = zoom @ plane_homography(
                path[k * SUBFRAMES + s], (sheet_w, sheet_h), distance, centre
            )
            warped = cv2.resize(
                cv2.warpPerspective(sheet, h, big, flags=cv2.INTER_LINEAR),
                size,
                interpolation=cv2.INTER_AREA,
            )
            mask = cv2.resize(
                cv2.warpPerspective(mask_src, h, big, flags=cv2.INTER_LINEAR),
                size,
                interpolation=cv2.INTER_AREA,
            )
            alpha = mask.astype(np.float32)[:, :, None] / 255.0
            lit = warped.astype(np.float32) + 255.0 * glare[:, :, None] * alpha
            acc += lit * alpha + room * (1 - alpha)
        frame = acc / SUBFRAMES + rng.normal(0, noise, (height, width, 3))
        out.append(np.clip(frame, 0, 255).astype(np.uint8))
    return out


def write_video(path: Path, frames: list[np.ndarray], fps: float = FPS) -> Path:
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, frames[0].shape[1::-1]
    )
    if not writer.isOpened():
        raise FaceappError(f"cannot write video {path}")
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def clip_still(clip: Path, index: int) -> np.ndarray:
    """Frame ``index`` of a video file."""
    capture = cv2.VideoCapture(str(clip))
    capture.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, frame = capture.read()
    capture.release()
    if not ok:
        raise FaceappError(f"cannot read frame {index} of {clip}")
    return frame


def clips_in(folder: Path | str, at_least: int = 1) -> list[Path]:
    """The .mp4 clips in ``folder``, by name; a one-line error with fewer than ``at_least``."""
    clips = sorted(Path(folder).glob("*.mp4"))
    if len(clips) < at_least:
        wanted = "no .mp4 clips" if at_least == 1 else f"need {at_least} or more .mp4 clips"
        raise FaceappError(f"{wanted} in {folder} (give --videos DIR)")
    return clips


def clip_frames(clip: Path, start: int, count: int) -> list[np.ndarray]:
    """``count`` consecutive frames of a video file from frame ``start`` (fewer at its end)."""
    capture = cv2.VideoCapture(str(clip))
    capture.set(cv2.CAP_PROP_POS_FRAMES, start)
    frames: list[np.ndarray] = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    if not frames:
        raise FaceappError(f"cannot read frames {start}+ of {clip}")
    return frames


def make_attacks(
    out: Path, clips: list[Path], photos: list[Path], per_clip: int, seconds: float, seed: int
) -> list[Attack]:
    """Write ``per_clip`` attacks from stills of each clip and one from each photo, both
    kinds in turn; return what was written (also in ``out/manifest.json``)."""
    from faceapp.storage import write_bytes_atomic

    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    jobs: list[tuple[str, Path, int | None]] = []  # (name, clip or photo, frame or None)
    for clip in clips:
        count = int(cv2.VideoCapture(str(clip)).get(cv2.CAP_PROP_FRAME_COUNT)) or 1
        for _ in range(per_clip):
            index = int(rng.integers(0, count))
            jobs.append((f"{clip.stem}@{index}", clip, index))
    jobs += [(f"{photo.parent.name}/{photo.name}", photo, None) for photo in photos]
    attacks = []
    for number, (source, file, frame) in enumerate(jobs):
        kind = KINDS[number % len(KINDS)]
        attack_seed = int(rng.integers(0, 2**31))
        name = f"attack-{number:03d}-{kind}.avi"
        target = out / name
        if not target.exists():
            still = clip_still(file, frame) if frame is not None else read_image(file)
            write_video(target, render(still, kind, seconds, attack_seed))
        attacks.append(Attack(name, kind, source, attack_seed))
        print(f"{name}: {kind} of {source}", flush=True)
    manifest = json.dumps([asdict(a) for a in attacks], indent=2) + "\n"
    write_bytes_atomic(out / "manifest.json", manifest.encode(), overwrite=True)
    return attacks


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m training.attacks",
        description="Write replay-attack videos (a photo held up to the "
        "camera, printed or on a screen) for measuring the "
        "liveness check.",
    )
    parser.add_argument(
        "--out", "--output", dest="out", required=True, metavar="DIR", help="where the videos go"
    )
    parser.add_argument(
        "--videos",
        required=True,
        metavar="DIR",
        help="real clips whose frames become stills (e.g. ../shared/data/videos)",
    )
    parser.add_argument("--lfw", metavar="DIR", help="LFW, for photos as stills too")
    parser.add_argument(
        "--photos",
        type=int,
        default=30,
        metavar="N",
        help="LFW photos used as stills, one per person (default: 30)",
    )
    parser.add_argument(
        "--per-clip",
        type=int,
        default=20,
        metavar="N",
        help="attacks made from stills of each clip (default: 20)",
    )
    parser.add_argument("--seconds", type=float, default=6.0, help="length (default: 6)")
    parser.add_argument("--seed", type=int, default=0, help="default: 0")
    return parser


@cli_guard
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    clips = clips_in(args.videos)
    photos = []
    if args.lfw:
        from benchmarks.data import sample_photos

        photos = sample_photos(Path(args.lfw), args.photos, seed=args.seed)
    attacks = make_attacks(Path(args.out), clips, photos, args.per_clip, args.seconds, args.seed)
    print(f"{len(attacks)} attacks in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
