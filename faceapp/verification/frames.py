"""Verifying over the frames of a source — a webcam, a video file, an image folder — for up
to a timeout: the one loop ``faceapp-verify`` and the login check run (the window runs the
same rule, :class:`~faceapp.verification.timed.TimedVerification`, fed by its worker).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from faceapp.errors import FaceappError
from faceapp.verification.rule import Decision
from faceapp.verification.timed import TimedVerification


@dataclass(frozen=True)
class Watched:
    """How a multi-frame verification went: the decision (None: no frame could be judged),
    the story in words, and the last frame seen (for a snapshot of a failed login)."""

    decision: Decision | None
    story: str
    last_frame: np.ndarray | None = None
    first_frame_after: float | None = None  # seconds from the call to the first frame


def verify_frames(
    verifier,
    source,
    timeout: float,
    clock=time.monotonic,
    liveness: str = "passive",
    realtime: bool = False,
    on_prompt=None,
    check=None,
    finder=None,
) -> Watched:
    """Decide over the frames of ``source`` for up to ``timeout`` s; also say how it went.

    Each frame is judged by :meth:`Verifier.judge` (no face, too dark or too blurred: skipped)
    and counted by :class:`TimedVerification`, the rule the window's ``t`` uses too. Time is
    the video's own for files and folders read as fast as they can be (``realtime=False``), or
    the clock's for a webcam and for files delivered at their own frame rate (``realtime``:
    as a webcam would deliver them). The face is tracked from frame to frame
    (:class:`faceapp.vision.finder.FaceFinder`); with ``liveness="passive"`` every frame also
    goes to the liveness check, and a face is verified only if it is live. ``source`` is a
    camera, a file or a folder (:class:`faceapp.vision.camera.FrameSource` opens it), or an
    object with its interface already open (a scripted responder in tests). With
    ``liveness="challenge"`` the user is also asked for head movements once the face matched
    (``on_prompt(text)`` tells them what to do). ``check(clock)``: makes the liveness check
    instead of the mode's (e.g. a seeded challenge), on the clock the frames keep.
    ``finder``: the face search (default: a new tracking
    :class:`~faceapp.vision.finder.FaceFinder`; an evaluation that runs one recording many
    times gives one that remembers).
    """
    from faceapp.liveness import make_check
    from faceapp.vision.camera import FrameSource
    from faceapp.vision.finder import FaceFinder

    called = time.monotonic()
    finder = finder if finder is not None else FaceFinder(track=True)
    problem, frame, first = None, None, None
    opened = source if hasattr(source, "read") else FrameSource(source, realtime=realtime)
    with opened as frames:
        if frames.finished:
            raise FaceappError(frames.message or f"cannot read {source}")
        if frames.is_webcam and not frames.opened:  # one-shot: say so now, do not wait
            raise FaceappError(
                f"no camera at index {frames.source}: is it plugged in, or used by another program?"
            )
        if not frames.paced:
            clock = frames.video_seconds
        made = (check or make_check)(liveness, on_prompt=on_prompt, clock=clock)
        timed = TimedVerification(timeout, clock=clock, liveness=made)
        last = None
        while not timed.done:
            frame = frames.read()
            if frame is None:
                if frames.finished:
                    break
                problem = frames.message  # webcam missing or lost: retried by FrameSource
                time.sleep(0.05)
                continue
            last = frame
            first = first if first is not None else time.monotonic() - called
            face = finder.find(frame)
            if made is not None:
                made.add(frame, face)
            if not timed.identity_decided:  # else only the liveness check still needs frames
                judgement = verifier.judge(frame, face, searched=True)
                timed.record(judgement.decision, judgement.problem)
        story = timed.explain()  # while the source is open: its time is the video's
        if not timed.judged and frames.finished and frames.message:
            problem = problem or frames.message  # e.g. no readable frames in a folder
    if problem and not timed.judged:
        story += f"; {problem}"
    return Watched(timed.outcome(), story, last, first)
