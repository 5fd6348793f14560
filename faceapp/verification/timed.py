"""Deciding over several frames for up to a timeout: the app's ``t`` and ``faceapp.verify``
over a video or a camera share this one rule."""

from __future__ import annotations

import time

from faceapp.errors import FaceappError
from faceapp.verification.rule import Decision

FUSED_FRAMES = 3  # the latest judged frames whose scores decide together


class Refusal:
    """A liveness verdict of "no", with its reason (the shape of the checks' verdicts)."""

    live = False

    def __init__(self, reason: str):
        self.reason = reason


class TimedVerification:
    """Decide over several frames for up to ``timeout`` seconds (like Howdy).

    Feed it one :class:`Decision` per judged frame (frames with no face, too dark or too
    blurred are reported with :meth:`skip`). The verdict fuses frames: the mean score of the
    latest :data:`FUSED_FRAMES` judged frames decides, so one lucky or unlucky frame does not
    (measured on the shared clips: docs/accuracy.md). Verified as soon as that mean is above
    the bar over three frames; unverified once ``reject_after`` frames were judged without
    it, or when time runs out (then the frames judged so far decide).

    With a ``liveness`` check (:class:`faceapp.liveness.passive.MotionCheck`, fed every frame
    by the caller), a verified face must also be found live: it waits for the check's verdict, and
    stops at once when the check finds the face is not live.

    A check that *asks* (a challenge: it has ``start``) begins once the face matched, and the
    identity is watched until it ends: every frame is still judged, and the face must match
    over all the frames judged while it asked and again over the :data:`FUSED_FRAMES` frames
    after its last answer. Else a face that matched (say, a video of the owner) could hand
    over to another (the person holding it) for the movements.
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
        self.asking = hasattr(liveness, "start")  # a challenge: identity watched throughout
        self.watched: list[Decision] = []  # frames judged after the match, while it asked
        self._live_at: int | None = None  # len(watched) when the check first said live

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    @property
    def done(self) -> bool:
        # a challenge asks once the face matched: it gets its own time on top of the timeout
        matched = self.result is not None and self.result.verified
        extra = getattr(self.liveness, "extra_seconds", 0.0) if matched else 0.0
        if self.elapsed >= self.timeout + extra:
            return True
        if self.liveness is None:
            return self.result is not None
        live = self.liveness.verdict().live
        if live is False:
            return True
        if self.result is None:
            return False
        if live is True and self._watching:
            if self._live_at is None:
                self._live_at = len(self.watched)
            return len(self.watched) - self._live_at >= FUSED_FRAMES  # matched again after
        return live is True or not self.result.verified

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
        """One judged frame. Once the latest frames' mean verifies (over
        :data:`FUSED_FRAMES`), or at the ``reject_after``-th frame, who it is is decided;
        frames judged after that do not change it."""
        self.judged.append(decision)
        if self.result is not None:
            if self._watching:
                self.watched.append(decision)
            return
        fused = self._fused()
        if (fused.verified and fused.frames >= FUSED_FRAMES) or len(self.judged) >= (
            self.reject_after
        ):
            self.result = fused
            if fused.verified and self.asking:
                self.liveness.start()  # the face matched: a challenge begins asking

    def _fused(self) -> Decision:
        recent = self.judged[-FUSED_FRAMES:]
        return recent[-1].fused([d.score for d in recent])

    @property
    def _watching(self) -> bool:
        return self.asking and self.result is not None and self.result.verified

    @property
    def identity_decided(self) -> bool:
        """Whether frames no longer need to be judged (the liveness check may need more):
        never while a challenge asks."""
        return self.result is not None and not self._watching

    def outcome(self) -> Decision | None:
        """The decision: the one reached, else the latest frames' fused; None if no frame
        was judged. With a liveness check, its verdict (undecided counts as not live) is part
        of it."""
        if self.result is not None:
            decision = self.result
        elif self.judged:
            decision = self._fused()
        else:
            return None
        if self.liveness is None or not decision.verified:
            return decision  # refused as someone else: whether live does not matter
        verdict = self.liveness.final()
        if self._watching and verdict.live:
            swapped = self._not_the_same_face()
            if swapped is not None:
                return swapped
        return decision.with_liveness(verdict)

    def _not_the_same_face(self) -> Decision | None:
        """The refusal when the face that answered the challenge is not the one that matched:
        over every frame judged while it asked, or over the frames after its last answer."""
        after = self.watched[self._live_at or 0 :][:FUSED_FRAMES]
        if len(after) < FUSED_FRAMES:
            return self.result.with_liveness(  # type: ignore[union-attr]
                Refusal("not live: the face was not seen again after the challenge")
            )
        for frames in (self.watched, after):
            fused = frames[-1].fused([d.score for d in frames])
            if not fused.verified:
                return fused.with_liveness(
                    Refusal(
                        "not live: the face that answered the challenge is not the one that matched"
                    )
                )
        return None

    def explain(self) -> str:
        judged = len(self.judged)
        skipped = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items()))
        text = f"{judged} frame(s) judged in {self.elapsed:.1f} s" + (
            f"; skipped: {skipped}" if skipped else ""
        )
        if self.liveness is not None and not judged:
            text += f"; {self.liveness.final().reason}"
        return text
