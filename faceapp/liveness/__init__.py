"""Liveness: is a live person in front of the camera, or a picture or a recording of one?

``passive`` (:mod:`~faceapp.liveness.passive`) watches the face move over a few frames, no
prompt: a photo or a screen held up moves like a plane, a head does not; and a screen held in
a hand carries everything around the face with it, a room does not
(:mod:`~faceapp.liveness.surroundings`). ``challenge``
(:mod:`~faceapp.liveness.challenge`) also asks, once the face matched, for head movements in
a random order, which a recording cannot know: both must say live. The modes are named here
so that command-line flags can list them without importing OpenCV.
"""

LIVENESS_MODES = ("off", "passive", "challenge")
DEFAULT_LIVENESS = "passive"


CHALLENGE_STEPS = 2  # head movements asked for (docs/liveness.md: one against two, measured)


def make_check(mode: str, rng=None, on_prompt=None, clock=None, steps: int = CHALLENGE_STEPS):
    """The check a mode runs (None for ``off``), fed every frame by the caller; ``clock``:
    the time the frames keep (a video's own), for a challenge's answer times."""
    if mode == "off":
        return None
    from faceapp.liveness.passive import MotionCheck

    if mode == "passive":
        return MotionCheck()
    from faceapp.liveness.challenge import ChallengeCheck
    from faceapp.liveness.combined import AllOf

    timing = {"clock": clock} if clock else {}
    challenge = ChallengeCheck(steps, rng=rng, on_prompt=on_prompt, **timing)
    return AllOf([MotionCheck(), challenge])
