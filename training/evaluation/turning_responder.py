"""A smooth scripted responder: a clip's real frames, the head turned as a person turns it.

The frame-splicing responder (:class:`training.evaluation.challenge.Responder`) answers with
the clip's own poses, played out of order: the point tracker of the passive check cannot
follow a head that jumps between moments of a clip, so the time it measures from a prompt
to "live" is mostly the passive check waiting for frames it can follow. A person's head
turns smoothly. This responder plays the stillest second of a clip, forwards and back (the
face keeps talking and blinking in front of its real room), and when a prompt comes it turns
the whole head (:class:`training.turning.TurningFrame`) along a **person's movement**
(:class:`Person`):

* a reaction time after the prompt, drawn per prompt (reading a short instruction and
  choosing among four directions: 0.4-0.7 s; a simple reaction to a light is ~0.2-0.25 s);
* a turn out and back along a minimum-jerk path (the smooth bell-shaped speed of a
  voluntary movement), of a size drawn per movement, lasting ``0.25 s + size / 150``
  (a 30-degree head turn in about 0.45 s: peak speeds near 130 degrees a second, within
  what head movements of that size reach), with a short hold at the end;
* after a turn the head comes back by itself, and a new prompt is answered once the head is
  back and the reaction time has passed.

The sizes are what the app reads (16-30 degrees of turn, 13-21 of tilt: what people do when
asked, a little over the bars of 15 and 10). The pose reader reads a rendered turn as 0.44 to
1.1 of itself depending on the face and the way (the mesh turns, the skull and hair around
it only as a shell), and less than that for large ones, so each clip's stretch is
calibrated: every movement is rendered at a few sizes and read back (:attr:`Stretch.curves`),
and a movement the reader should see as ``size`` is rendered at the size that reads so.

How far this is from a person: the timing is a model with its figures drawn from the ranges
above, not a measurement of people (this project has no camera and no people to time); the
hair turns as a shell and the ears do not hide; the talking is the clip's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceapp.liveness.challenge import MOVES
from training.evaluation.challenge import ScriptedSource

STRETCH = 25  # frames of the clip played forwards and back: its stillest second


@dataclass(frozen=True)
class Person:
    """How the modelled person moves when asked (ranges drawn uniformly)."""

    reaction: tuple[float, float] = (0.4, 0.7)  # s from a prompt to the first movement
    turn: tuple[float, float] = (16.0, 30.0)  # degrees of yaw, as the app reads them
    tilt: tuple[float, float] = (13.0, 21.0)  # degrees of pitch, as the app reads them
    hold: tuple[float, float] = (0.1, 0.3)  # s held at the end of a movement

    @staticmethod
    def duration(size: float) -> float:
        """Seconds a movement of ``size`` degrees takes, one way."""
        return 0.25 + size / 150.0


def minimum_jerk(size: float, frames: int) -> np.ndarray:
    """The positions, frame by frame, of a movement from 0 to ``size`` (its last is ``size``)."""
    tau = np.arange(1, frames + 1) / frames
    return size * (10 * tau**3 - 15 * tau**4 + 6 * tau**5)


PROBES = (10.0, 20.0, 30.0, 40.0, 50.0, 60.0)  # rendered degrees tried, each way


@dataclass
class Stretch:
    """Frames to play (:class:`~training.turning.TurningFrame`), and per movement the turn the
    pose reader reads at each rendered size of :data:`PROBES`."""

    frames: list
    curves: dict[str, np.ndarray]  # move -> the read size at each probe, never decreasing

    @classmethod
    def of(cls, frames: list) -> Stretch:
        middle = frames[len(frames) // 2]
        before = pose_in(middle.image)
        if before is None:
            raise ValueError("no face in the stretch's middle frame")
        curves = {}
        for move, (_, axis, sign) in MOVES.items():
            read = []
            for size in PROBES:
                turned = middle.frame(*((sign * size, 0.0) if axis == 0 else (0.0, sign * size)))
                after = pose_in(turned) or before  # lost: reads nothing
                read.append(
                    sign * ((after.yaw - before.yaw) if axis == 0 else (after.pitch - before.pitch))
                )
            curves[move] = np.maximum.accumulate(np.array(read))
        return cls(frames, curves)

    def rendered(self, move: str, size: float) -> float:
        """The rendered size (degrees, unsigned) the pose reader reads as ``size`` for
        ``move`` (where it never reads that much, the smallest that reads the most)."""
        read = self.curves[move]
        if size >= read[-1]:
            return PROBES[int(np.argmax(read))]
        return float(np.interp(size, np.concatenate([[0.0], read]), (0.0, *PROBES)))


def pose_in(image: np.ndarray):
    """The head pose of the face in ``image`` (None: no face, or no landmarks)."""
    from faceapp.vision.finder import find_face
    from faceapp.vision.pose import head_pose

    face = find_face(image)
    return head_pose(face.landmarks) if face is not None and face.landmarks is not None else None


def stillest_stretch(clip: Path, length: int = STRETCH) -> Stretch:
    """The clip's ``length`` consecutive frames whose head pose varies least, calibrated."""
    from training.evaluation.challenge import PoseLibrary
    from training.turning import TurningFrame

    library = PoseLibrary.of(clip)  # its frames with a face, and their poses
    poses = np.stack([library.yaw, library.pitch], axis=1)
    spread = [
        np.ptp(poses[k : k + length], axis=0).max()
        if library.numbers[k + length - 1] - library.numbers[k] == length - 1  # no gap
        else np.inf
        for k in range(len(poses) - length + 1)
    ]
    start = int(np.argmin(spread))
    return Stretch.of(
        [
            TurningFrame(library.frames[k], library.landmarks[k].points.astype(np.float64))
            for k in range(start, start + length)
        ]
    )


class TurningResponder(ScriptedSource):
    """A person answering the challenge's prompts (give :meth:`hear` as ``on_prompt``)."""

    def __init__(
        self, stretch: Stretch, rng: np.random.Generator, seconds: float = 12.0, fps: float = 25.0,
        person: Person = Person(),
    ):  # fmt: skip
        super().__init__(int(seconds * fps), fps)
        self.stretch, self.rng, self.person = stretch, rng, person
        self.plan: list[tuple[float, float]] = []  # the head's turn, frame by frame, from now
        self.prompted_at: list[float] = []

    def hear(self, prompt: str) -> None:
        move = next((m for m, (text, _, _) in MOVES.items() if text == prompt), None)
        if move is None:
            return  # "hold still", "face the camera again": it does, by itself
        self.prompted_at.append(self.video_seconds())
        person, rng = self.person, self.rng
        _, axis, sign = MOVES[move]
        size = rng.uniform(*(person.turn if axis == 0 else person.tilt))
        steps = max(2, round(person.duration(size) * self.fps))
        out = minimum_jerk(self.stretch.rendered(move, size), steps) * sign
        held = [out[-1]] * round(rng.uniform(*person.hold) * self.fps)
        back = out[-1] - minimum_jerk(out[-1], steps)
        path = list(out) + held + list(back)
        # the way back from the last movement is finished first; the reaction runs meanwhile
        waiting = max(round(rng.uniform(*person.reaction) * self.fps), len(self.plan))
        self.plan += [(0.0, 0.0)] * (waiting - len(self.plan))
        self.plan += [(a, 0.0) if axis == 0 else (0.0, a) for a in path]

    def next_frame(self) -> np.ndarray:
        # forwards and back through the stretch: no jump where it starts again
        frames = self.stretch.frames
        cycle = 2 * len(frames) - 2
        k = (self.frames_read - 1) % cycle
        frame = frames[k if k < len(frames) else cycle - k]
        yaw, pitch = self.plan.pop(0) if self.plan else (0.0, 0.0)
        return frame.frame(yaw, pitch)
