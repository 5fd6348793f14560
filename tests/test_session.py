"""The window's logic without a window: the verification session and the capture saver,
driven by a stand-in worker and real frames."""

from __future__ import annotations

import itertools
import stat

import cv2
import numpy as np
import pytest
from conftest import face_photos

from faceapp.app.captures import CaptureSaver
from faceapp.app.preview import PreviewFrame
from faceapp.app.session import Session, Settings, Tone, WorkerState
from faceapp.app.worker import WorkerEvent
from faceapp.paths import DataRoot
from faceapp.verification.enrolment import enrolled_faces
from faceapp.verification.rule import Thresholds, decide
from faceapp.vision.crops import kept_picture
from faceapp.vision.finder import find_face


class StandInWorker:
    """Answers like the inference worker: "ready" when told, and each request with the
    decision the test queued (or verified by default)."""

    def __init__(self):
        self.pid, self.started, self.restarts = 4242, 0, 0
        self.events: list[WorkerEvent] = []
        self.requests: list[tuple] = []
        self.thresholds: list[tuple] = []
        self.next_scores: list[list[float]] = []
        self.ids = 0

    def start(self):
        self.started += 1
        self.events.append(WorkerEvent("loading", message="loading the model…"))

    def restart(self):
        self.restarts += 1
        self.start()

    def stop(self):
        pass

    def ready(self, detection=0.7):
        self.events.append(
            WorkerEvent(
                "ready",
                message="ready",
                info={
                    "model": "shipped model test",
                    "detection_threshold": detection,
                    "verification_threshold": 0.5,
                    "gallery_size": 3,
                    "runtime": "int8",
                },
            )
        )

    def answer(self):
        """Reply to every waiting request; a judged frame with no face is skipped, as
        Verifier.judge does."""
        for request_id, _frame, face, _searched, judge in self.requests:
            if judge and face is None:
                info = {"gallery_size": None, "note": "", "problem": "no face"}
                self.events.append(WorkerEvent("result", request_id, "skipped", info=info))
                continue
            scores = self.next_scores.pop(0) if self.next_scores else [0.9, 0.9, 0.9]
            decision = decide(scores, Thresholds(0.7, 0.5))
            self.events.append(
                WorkerEvent(
                    "result",
                    request_id,
                    decision.summary(),
                    decision=decision,
                    info={"gallery_size": 3, "note": "", "problem": None},
                )
            )
        self.requests = []

    def verify(self, frame, face=None, searched=False, judge=False):
        self.ids += 1
        self.requests.append((self.ids, frame, face, searched, judge))
        return self.ids

    def poll(self):
        events, self.events = self.events, []
        return events

    def set_thresholds(self, detection=None, verification=None):
        self.thresholds.append((detection, verification))


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def root(tmp_path) -> DataRoot:
    return DataRoot(tmp_path / "data").ensure()


def enrol_one(root: DataRoot) -> None:
    cv2.imwrite(
        str(root.verification_images / "me.jpg"), cv2.imread(str(face_photos("Colin_Powell")[0]))
    )


@pytest.fixture
def session(root):
    worker, clock = StandInWorker(), Clock()
    session = Session(Settings(root, timeout=5.0), make_worker=lambda d, v: worker, clock=clock)
    session.stand_in, session.test_clock = worker, clock
    return session


def frames(person: str = "Colin_Powell", start: int = 1):
    """Real frames, numbered, with the face found in each (as the preview thread does)."""
    for number, path in enumerate(face_photos(person), start=start):
        image = cv2.imread(str(path))
        yield PreviewFrame(image, find_face(image), number, 0.0)


def blank(number: int) -> PreviewFrame:
    return PreviewFrame(np.full((240, 320, 3), 128, np.uint8), None, number, 0.0)


def test_start_loads_then_takes_the_models_thresholds(session):
    session.start()
    assert session.state is WorkerState.LOADING and session.view.busy
    session.stand_in.ready(detection=0.73)
    session.tick(None)
    assert session.state is WorkerState.READY and not session.view.busy
    assert session.view.detection_threshold == 0.73
    assert session.view.model == "shipped model test"  # the stand-in names no rule
    assert session.stand_in.started == 1


def test_verify_before_enrolling_says_how(session):
    session.verify(next(frames()))
    assert (session.view.result, session.view.tone) == ("Not enrolled", Tone.NEUTRAL)
    assert session.stand_in.requests == []


def test_one_frame_is_sent_with_its_face_and_the_result_shown(session, root):
    enrol_one(root)
    frame = next(frames())
    session.verify(frame)  # before "ready": queued in the worker
    assert session.view.busy and "loading the model" in session.view.busy_text
    ((_, sent, face, searched, judge),) = session.stand_in.requests
    assert sent is frame.image and face is frame.face and searched and not judge
    session.stand_in.ready()
    session.stand_in.answer()
    session.tick(None)
    assert (session.view.result, session.view.tone) == ("Verified", Tone.GOOD)
    assert not session.view.busy and session.last_decision.matches == 3
    session.verify(frame)
    session.verify(frame)  # a second press while one runs
    assert session.view.status == "a verification is already running"


def test_timed_mode_skips_frames_without_a_face_and_fuses_the_judged_ones(session, root):
    enrol_one(root)
    session.start()
    session.stand_in.ready()
    session.tick(None)
    session.verify_timed()
    session.tick(blank(1))  # sent with judge=True: the worker judges its quality
    assert session.stand_in.requests[-1][-1] is True
    session.stand_in.answer()
    session.tick(blank(1))  # no face: skipped; the same frame: not sent again
    assert session.timed.skipped == {"no face": 1} and not session.stand_in.requests
    faces = frames(start=2)
    session.stand_in.next_scores = [[0.1, 0.2, 0.1]]
    session.tick(next(faces))
    assert len(session.stand_in.requests) == 1
    session.stand_in.answer()
    session.tick(next(faces))  # result 1: not verified, goes on
    assert session.timed is not None and len(session.stand_in.requests) == 1
    session.stand_in.answer()
    session.tick(next(faces))  # result 2: verified, but two frames do not decide yet
    assert session.timed is not None and len(session.stand_in.requests) == 1
    session.stand_in.answer()
    session.tick(None)  # result 3: the three frames' mean (0 + 1 + 1) / 3 is above 0.5
    assert session.timed is None and session.view.result == "Verified"
    assert session.last_decision.frames == 3
    assert "3 frame(s) judged" in session.view.summary and "1 no face" in session.view.summary


def test_timed_mode_waits_for_the_liveness_check_fed_by_the_preview(root):
    from faceapp.liveness.passive import Verdict

    class Check:  # what the preview thread's MotionCheck would answer
        live = None

        def verdict(self):
            return Verdict(
                self.live,
                "not live: the face moved like a flat picture"
                if self.live is False
                else "undecided",
                None,
                0,
            )

        def final(self):
            return self.verdict()

    check, started, stopped = Check(), [], []
    worker = StandInWorker()
    session = Session(
        Settings(root, timeout=5.0),
        make_worker=lambda d, v: worker,
        start_liveness=lambda mode: started.append(mode) or check,
        stop_liveness=lambda: stopped.append(1),
    )
    enrol_one(root)
    session.start()
    worker.ready()
    session.tick(None)
    session.verify_timed()
    assert started == ["passive"] and "move your head" in session.view.busy_text
    for frame in itertools.islice(frames(start=2), 3):  # three frames fused
        session.tick(frame)
        worker.answer()
    session.tick(None)  # the face matches; liveness undecided: waiting
    assert session.timed is not None and session.timed.identity_decided
    check.live = False
    session.tick(None)
    assert session.timed is None and stopped == [1]
    assert session.view.result == "Unverified"
    assert "not live: the face moved like a flat picture" in session.view.summary
    assert session.last_decision.matches == 3 and session.last_decision.live is False


def test_timed_mode_ends_when_time_is_up(session, root):
    enrol_one(root)
    session.start()
    session.stand_in.ready()
    session.tick(None)
    session.verify_timed()
    session.test_clock.now += 6.0
    session.tick(blank(1))
    assert session.timed is None and session.view.result == "Unverified"
    assert "no face could be judged" in session.view.summary


def test_a_dead_worker_is_restarted_and_the_running_check_abandoned(session, root):
    enrol_one(root)
    session.start()
    session.stand_in.ready()
    session.verify(next(frames()))
    session.stand_in.events.append(
        WorkerEvent("died", message="inference worker stopped unexpectedly (killed by SIGKILL)")
    )
    session.tick(None)
    assert session.stand_in.restarts == 1 and session.state is WorkerState.LOADING
    assert (session.view.result, session.view.tone) == ("Error", Tone.BAD)
    assert "restarting" in session.view.status and not session.verifying
    session.stand_in.ready()  # the fresh worker: its "ready" still says why it was restarted
    session.tick(None)
    assert session.state is WorkerState.READY and session.restarts == 1
    assert session.view.status.endswith(
        "(restarted: inference worker stopped unexpectedly (killed by SIGKILL))"
    )


def test_a_worker_that_keeps_dying_is_restarted_after_growing_pauses_then_given_up(session):
    from faceapp.app.session import RESTART_DELAYS

    def dies():
        session.stand_in.events.append(WorkerEvent("died", message="killed by SIGSEGV"))
        session.tick(None)

    session.start()
    for number, delay in enumerate(RESTART_DELAYS, start=1):
        dies()
        if delay:  # not yet: the pause runs on the session's clock
            assert session.stand_in.restarts == number - 1
            assert f"restarting it in {delay:g} s" in session.view.status
            session.test_clock.now += delay
            session.tick(None)
        assert session.stand_in.restarts == number
    dies()  # once more in a row: given up, with one line that says why
    assert session.state is WorkerState.FAILED
    assert session.stand_in.restarts == len(RESTART_DELAYS)
    status = session.view.status
    assert "\n" not in status and "died 4 times in a row (last: killed by SIGSEGV)" in status
    session.verify(next(frames()))  # a key press keeps that line, sends nothing
    assert session.view.status == status and not session.verifying
    session.test_clock.now += 3600
    session.tick(None)
    assert session.stand_in.restarts == len(RESTART_DELAYS)  # no restart is pending


def test_a_key_during_a_paused_restart_says_so_and_a_worker_that_cannot_start_counts_as_dead(
    session, root
):
    enrol_one(root)
    session.start()
    for _ in range(2):  # the second death in a row: restarted after a pause
        session.stand_in.events.append(WorkerEvent("died", message="killed by SIGKILL"))
        session.tick(None)
    session.verify(next(frames()))
    assert "restarting: try again in a moment" in session.view.status and not session.verifying

    def cannot_start():
        raise OSError("Cannot allocate memory")

    session.stand_in.restart = cannot_start
    session.test_clock.now += 60
    session.tick(None)  # the paused restart fails: a third death, in the same line of deaths
    assert "cannot restart it: Cannot allocate memory" in session.view.status
    assert session.state is not WorkerState.READY


def test_a_worker_that_lived_a_while_starts_its_count_of_deaths_anew(session):
    from faceapp.app.session import RESTART_DELAYS, RESTARTS_FORGIVEN_AFTER

    session.start()
    for _ in range(2 * len(RESTART_DELAYS)):
        session.stand_in.events.append(WorkerEvent("died", message="killed by SIGKILL"))
        session.tick(None)
        session.test_clock.now += RESTARTS_FORGIVEN_AFTER + 1
        session.tick(None)
    assert session.state is WorkerState.LOADING
    assert session.stand_in.restarts == 2 * len(RESTART_DELAYS)


def test_a_model_that_fails_to_load_is_shown(session):
    session.start()
    session.stand_in.events.append(WorkerEvent("error", message="cannot load model x.keras"))
    session.tick(None)
    assert session.state is WorkerState.FAILED
    assert session.view.model == "cannot load model x.keras"


def test_a_moved_slider_reaches_the_worker_and_wins_over_the_model(session):
    session.start()
    session.set_threshold("detection", 0.9)
    assert session.stand_in.thresholds == [(0.9, 0.5)]
    session.set_threshold("detection", 0.9)  # unchanged: nothing sent
    assert len(session.stand_in.thresholds) == 1
    session.stand_in.ready(detection=0.6)
    session.tick(None)
    assert session.view.detection_threshold == 0.9


def test_captures_save_the_face_with_context_privately_and_enrol_with_a_record(root):
    saver = CaptureSaver(root)
    assert saver.save("enrol", None).startswith("no frame to use")
    frame = next(frames())
    assert saver.save("enrol", frame) == "saving the enrolled face..."
    assert saver.save("anchor", blank(2)).startswith("saving the centre box")
    saver.save("enrol", frame)  # the same frame again: refused, with the reason
    saver.save("enrol", blank(3))  # no face: refused
    saver.shutdown()
    lines = saver.finished()
    assert lines[0].startswith("saved the enrolled face: ") and len(lines) == 4
    assert lines[2].startswith("not enrolled: already enrolled as ")
    assert lines[3] == "not enrolled: no face found"
    (saved,) = root.verification_images.glob("*.jpg")
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    (face,) = enrolled_faces(root)
    assert face.path == saved and face.source == "camera"
    expected = kept_picture(frame.image, frame.face).image
    assert cv2.imread(str(saved)).shape == expected.shape
    assert expected.shape[0] > 2 * 0.8 * frame.face.box.height  # twice the face, with room


def test_an_enrolled_face_is_removed_by_two_taps_within_a_few_seconds(session, root):
    from faceapp.verification.enrolment import enrol, enrolled_faces

    enrol(*face_photos("Colin_Powell")[:2], data_root=root)
    first, second = enrolled_faces(root)
    assert not session.tap_enrolled(first.name)
    assert session.armed == first.name and "tap it again to remove" in session.view.status
    assert first.source in session.view.status
    session.test_clock.now += 6.0  # too late: the second tap only asks again
    assert not session.tap_enrolled(first.name) and first.path.exists()
    assert not session.tap_enrolled(second.name)  # another face: asks about that one
    assert session.tap_enrolled(second.name)
    assert not second.path.exists() and enrolled_faces(root) == [first]
    assert session.view.status.startswith("removed the enrolled face ")
