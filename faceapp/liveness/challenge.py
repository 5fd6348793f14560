"""A challenge a recording cannot follow: short head movements asked in a random order.

A video of the owner moves like a live head — the passive check cannot tell a talking head
on a phone from one in front of the camera. It cannot know, though, which movements it will
be asked for. Once the face matched, :class:`ChallengeCheck` asks for ``steps`` movements
drawn at random from turning left or right and looking up or down, one at a time; each must
be done within :data:`ANSWER_SECONDS` of its prompt:

* the head's pose is read from Face Mesh's 3-D landmarks (:func:`faceapp.vision.pose.head_pose`)
  against the pose it held when the challenge began;
* an answer is a turn of :data:`TURN` degrees (left, right) or a tilt of :data:`TILT` degrees
  (up, down) the asked way, within the time; a movement as large the *other* way, or one and
  a half times the other axis's own size along it (a tilt of 15 degrees while a turn is
  asked, a turn of 22.5 while a tilt is), is a wrong answer and ends the challenge (a
  recording that happens to move fails);
* an answer sooner than :data:`SOONEST` after its prompt is no answer but a head already on
  its way, and ends the challenge: a person must read the prompt, choose and start turning
  (a recording that happens to be turning as a prompt comes fails);
* between two prompts the head comes back towards where it began, so one pose cannot
  answer two prompts;
* it is the same face throughout: the face is tracked from frame to frame, and losing it
  for more than :data:`LOST_FRAMES` frames, or a jump of the face's box, ends the challenge.

The identity is checked by the caller at both ends (the face matched before the first
prompt, and matches again at the end). The verdict has the passive check's form
(:class:`faceapp.liveness.passive.Verdict`), so the multi-frame rule uses either. numpy only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from faceapp.liveness import CHALLENGE_STEPS
from faceapp.liveness.passive import Verdict
from faceapp.vision.finder import Face
from faceapp.vision.geometry import Box
from faceapp.vision.pose import head_pose

MOVES = {
    "left": ("turn your head to your left", 0, +1),
    "right": ("turn your head to your right", 0, -1),
    "up": ("look up", 1, +1),
    "down": ("look down", 1, -1),
}  # move -> (prompt, axis: 0 yaw / 1 pitch, sign)
TURN = 15.0  # degrees of yaw that answer a turn (people turn 20-40 when asked)
TILT = 10.0  # degrees of pitch that answer a tilt
BACK = 0.5  # between prompts the head comes back within this share of the answer's size
ANSWER_SECONDS = 2.0  # time for each answer, from its prompt (3 s let more recordings by: docs)
# no answer sooner than this after its prompt: reacting to something seen takes a person about
# 0.2 s before any movement, choosing among four written directions longer, and the turn
# itself more; set from that, not from the recordings it stops (docs/liveness.md)
SOONEST = 0.3
BASELINE_FRAMES = 3  # frames that fix the pose the challenge starts from
LOST_FRAMES = 3  # consecutive frames without the face before the challenge fails
MAX_JUMP = 0.5  # the face's box may move at most this share of its size between frames


@dataclass(frozen=True)
class Step:
    move: str
    prompt: str
    axis: int
    sign: int
    needed: float

    @classmethod
    def of(cls, move: str) -> Step:
        """The step that asks for ``move`` (a key of :data:`MOVES`)."""
        prompt, axis, sign = MOVES[move]
        return cls(move, prompt, axis, sign, TURN if axis == 0 else TILT)


class ChallengeCheck:
    """The challenge, fed every frame; ask :meth:`verdict` and read :attr:`prompt`."""

    def __init__(
        self,
        steps: int = 2,
        rng: np.random.Generator | None = None,
        clock=time.monotonic,
        on_prompt=None,
    ):
        """``on_prompt(text)``: called whenever what the user should do changes."""
        rng = rng if rng is not None else np.random.default_rng()
        moves = list(rng.choice(list(MOVES), size=steps, replace=False))
        self.steps = [Step.of(m) for m in moves]
        self.clock = clock
        self.started = False
        self.done = 0  # steps answered
        self.failed: str | None = None
        self.frames = 0
        self._baseline: list[tuple[float, float]] = []
        self._origin: np.ndarray | None = None
        self._asked_at: float | None = None
        self._waiting_back = False
        self._lost = 0
        self._last_box: Box | None = None
        self.answer_seconds: list[float] = []  # from each prompt to its answer
        self.asked_at: float | None = None  # when the first movement was asked (clock time)
        self.answered_at: float | None = None  # when the last one was answered
        self.on_prompt = on_prompt
        self._said = ""

    # --- driving it -------------------------------------------------------------------------

    def start(self) -> None:
        """Begin asking (the caller does, once the face matched)."""
        self.started = True
        self._tell()

    def _tell(self) -> None:
        if self.on_prompt is not None and self.prompt and self.prompt != self._said:
            self._said = self.prompt
            self.on_prompt(self.prompt)

    @property
    def prompt(self) -> str:
        """What the user should do now ("" when nothing is asked)."""
        if not self.started or self.failed or self.done == len(self.steps):
            return ""
        if self._origin is None:
            return "hold still, facing the camera"
        if self._waiting_back:
            return "now face the camera again"
        return self.steps[self.done].prompt

    @property
    def extra_seconds(self) -> float:
        """The longest the challenge can take once asked: each answer's time, and each return
        to the camera's, plus a second to settle (the caller's timeout is extended by it)."""
        return most_seconds(len(self.steps))

    @property
    def progress(self) -> float:
        return self.done / len(self.steps)

    def add(self, frame_bgr: np.ndarray, face: Face | None) -> None:
        """The next frame and the face tracked in it (None: none)."""
        self.frames += 1
        if not self.started or self.failed or self.done == len(self.steps):
            return
        if face is None or face.landmarks is None:
            self._lost += 1
            if self._lost > LOST_FRAMES:
                self.failed = "not live: the face was lost during the challenge"
            return
        self._lost = 0
        if self._last_box is not None and _jump(self._last_box, face.box) > MAX_JUMP:
            self.failed = "not live: the face jumped during the challenge"
            return
        self._last_box = face.box
        pose = head_pose(face.landmarks)
        angles = np.array([pose.yaw, pose.pitch])
        if self._origin is None:
            self._baseline.append((pose.yaw, pose.pitch))
            if len(self._baseline) >= BASELINE_FRAMES:
                self._origin = np.median(np.array(self._baseline), axis=0)
                self._asked_at = self.asked_at = self.clock()
                self._tell()
            return
        self._answer(angles - self._origin)
        self._tell()

    def _answer(self, moved: np.ndarray) -> None:
        step = self.steps[self.done]
        now = self.clock()
        assert self._asked_at is not None
        late = now - self._asked_at > ANSWER_SECONDS  # first: a late frame answers nothing
        if self._waiting_back:
            if late:
                self.failed = "not live: the head did not come back to face the camera"
            elif np.all(np.abs(moved) <= BACK * np.array([TURN, TILT])):
                self._waiting_back, self._asked_at = False, now
            return
        along = moved[step.axis] * step.sign
        across = abs(moved[1 - step.axis])
        if late:
            self.failed = f"not live: asked to {step.prompt}, no answer in {ANSWER_SECONDS:g} s"
        elif along >= step.needed and now - self._asked_at < SOONEST:
            self.failed = (
                f"not live: the head moved {step.move} within {SOONEST:g} s of the prompt, "
                "sooner than a person can answer"
            )
        elif along >= step.needed:
            self.answer_seconds.append(now - self._asked_at)
            self.done += 1
            if self.done == len(self.steps):
                self.answered_at = now
            self._waiting_back, self._asked_at = True, now
        elif along <= -step.needed or across >= (TURN if step.axis == 1 else TILT) * 1.5:
            self.failed = f"not live: asked to {step.prompt}, the head moved another way"

    # --- the verdict ------------------------------------------------------------------------

    def verdict(self) -> Verdict:
        if self.failed:
            return Verdict(False, self.failed, None, self.done)
        if self.done == len(self.steps):
            moves = " then ".join(s.move for s in self.steps)
            return Verdict(True, f"live: followed the challenge ({moves})", None, self.done)
        return Verdict(None, self.why_undecided(), None, self.done)

    def why_undecided(self) -> str:
        if not self.started:
            return "not live: the challenge did not start (no face matched)"
        return f"not live: the challenge was not finished ({self.done} of {len(self.steps)})"

    def final(self) -> Verdict:
        verdict = self.verdict()
        if verdict.live is None:
            return Verdict(False, verdict.reason, None, verdict.moving_frames)
        return verdict


def most_seconds(steps: int = CHALLENGE_STEPS) -> float:
    """The longest a challenge of ``steps`` movements can take once asked: each answer's
    time and each return to the camera's, plus a second to settle."""
    return 2 * ANSWER_SECONDS * steps + 1.0


def _jump(previous, box) -> float:
    """How far the box's centre moved, in the box's own size."""
    dx = (box.x + box.width / 2) - (previous.x + previous.width / 2)
    dy = (box.y + box.height / 2) - (previous.y + previous.height / 2)
    return float(np.hypot(dx, dy) / max(previous.width, previous.height, 1))
