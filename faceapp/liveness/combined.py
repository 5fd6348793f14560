"""Several liveness checks as one: live only when every one says live; not live as soon as
one says not live (its reason is the verdict's)."""

from __future__ import annotations

from faceapp.liveness.passive import Verdict


class AllOf:
    """Checks fed the same frames; the verdict of them all."""

    def __init__(self, checks: list):
        self.checks = checks

    def add(self, frame_bgr, face) -> None:
        for check in self.checks:
            check.add(frame_bgr, face)

    def start(self) -> None:
        """The face matched: checks that ask something begin asking."""
        for check in self.checks:
            if hasattr(check, "start"):
                check.start()

    @property
    def extra_seconds(self) -> float:
        """The longest a check here needs once the face matched (a challenge's answers)."""
        return max((getattr(check, "extra_seconds", 0.0) for check in self.checks), default=0.0)

    @property
    def prompt(self) -> str:
        return next((p for p in (getattr(c, "prompt", "") for c in self.checks) if p), "")

    def verdict(self) -> Verdict:
        verdicts = [check.verdict() for check in self.checks]
        refused = next((v for v in verdicts if v.live is False), None)
        if refused is not None:
            return refused
        if all(v.live for v in verdicts):
            return Verdict(True, "; ".join(v.reason for v in verdicts), None, 0)
        return Verdict(None, next(v.reason for v in verdicts if v.live is None), None, 0)

    def final(self) -> Verdict:
        """The verdict when no more frames come: a check that already said no says why;
        else one still undecided (which then means no); else live."""
        decided = self.verdict()
        if decided.live is not None:
            return decided
        return next(v for v in (check.final() for check in self.checks) if v.live is False)
