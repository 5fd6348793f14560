"""Deciding over several frames for up to a timeout: the app's ``t`` and ``faceapp.verify``
over a video or a camera share this one rule."""

from __future__ import annotations

import time

from faceapp.errors import FaceappError
from faceapp.verification.rule import Decision


class TimedVerification:
    """Decide over several frames for up to ``timeout`` seconds (like Howdy).

    Feed it one :class:`Decision` per judged frame (frames with no face, too dark or too
    blurred are reported with :meth:`skip`). It stops at the first confident decision:
    verified as soon as one frame verifies; unverified once ``reject_after`` judged
    frames in a row did not, or when time runs out.

    With a ``liveness`` check (:class:`faceapp.liveness.passive.MotionCheck`, fed every frame by the
    caller), a verified face must also be found live: it waits for the check's verdict, and
    stops at once when the check finds the face is not live.
    """

    def __init__(self, timeout: float, reject_after: int = 5, clock=time.monotonic, liveness=None):
        if timeout <= 0:
            raise FaceappError(f"--timeout must be a positive number of seconds, got {timeout}")
        self.timeout = timeout
        self.reject_after = reject_after
        self.clock = clock
        self.liveness = liveness
        self.started = clock()
        self.judged: list[Decision] = []
        self.skipped: dict[str, int] = {}
        self.result: Decision | None = None

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    @property
    def done(self) -> bool:
        if self.elapsed >= self.timeout:
            return True
        if self.liveness is None:
            return self.result is not None
        live = self.liveness.verdict().live
        if live is False:
            return True
        return self.result is not None and (live is True or not self.result.verified)

    def record(self, decision: Decision | None, problem: str | None = None) -> None:
        """One frame as :meth:`faceapp.verification.verifier.Verifier.judge` judged it: its
        decision counts, or, with none, its problem is tallied as a skipped frame."""
        if decision is None:
            self.skip(problem or "not judged")
        else:
            self.add(decision)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def add(self, decision: Decision) -> None:
        """One judged frame. The first verified one, or the ``reject_after``-th, decides
        who it is; frames judged after that do not change it."""
        self.judged.append(decision)
        if self.result is None and (decision.verified or len(self.judged) >= self.reject_after):
            self.result = decision

    @property
    def identity_decided(self) -> bool:
        """Whether frames still need to be judged (the liveness check may need more)."""
        return self.result is not None

    def outcome(self) -> Decision | None:
        """The decision: the deciding frame's, else the best judged frame's; None if none.
        With a liveness check, its verdict (undecided counts as not live) is part of it."""
        if self.result is not None:
            decision = self.result
        elif self.judged:
            decision = max(self.judged, key=lambda d: d.fraction)
        else:
            return None
        if self.liveness is None or not decision.verified:
            return decision  # refused as someone else: whether live does not matter
        return decision.with_liveness(self.liveness.final())

    def explain(self) -> str:
        judged = len(self.judged)
        skipped = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items()))
        text = f"{judged} frame(s) judged in {self.elapsed:.1f} s" + (
            f"; skipped: {skipped}" if skipped else ""
        )
        if self.liveness is not None and not judged:
            text += f"; {self.liveness.final().reason}"
        return text
