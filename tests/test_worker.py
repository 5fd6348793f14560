"""The inference worker process: ready, verify -> result, errors, kill -9 -> died -> restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest
from conftest import face_photos
from tiny_models import OTHER, OWNER, enrol, exact_match_model

from faceapp.app.worker import InferenceWorker, WorkerEvent
from faceapp.paths import DataRoot

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WAIT = 90.0  # seconds; generous for 2 busy cores (the int8 child is ready in about 0.5 s)


class EventLog(list):
    """Every event polled from a worker, in order; :meth:`wait` hands each out once."""

    def __init__(self):
        super().__init__()
        self.taken: set[int] = set()

    def wait(self, worker: InferenceWorker, kind: str) -> WorkerEvent:
        """The first not-yet-taken event of ``kind``, polling until it arrives."""
        deadline = time.monotonic() + WAIT
        while True:
            for index, event in enumerate(self):
                if event.kind == kind and index not in self.taken:
                    self.taken.add(index)
                    return event
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no {kind!r} event within {WAIT} s; got {[e.kind for e in self]}"
                )
            self.extend(worker.poll())
            time.sleep(0.01)


def wait_for(worker: InferenceWorker, kind: str, log: EventLog) -> WorkerEvent:
    return log.wait(worker, kind)


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> DataRoot:
    root = DataRoot(tmp_path_factory.mktemp("root")).ensure()
    enrol(root.verification_images, face_photos(OWNER, slice(0, 1)))
    exact_match_model(root.models / "exact.keras")
    return root


def frame(person: str, index: int = 0):
    return cv2.imread(str(face_photos(person)[index]))


@pytest.fixture
def worker(root):
    worker = InferenceWorker(root)
    yield worker
    worker.stop()


def test_worker_verifies_survives_errors_and_restarts_after_kill(worker, root):
    owner, other = frame(OWNER), frame(OTHER)
    log = EventLog()
    worker.start()
    first = worker.verify(owner)  # sent before "ready": queued, not lost
    ready = wait_for(worker, "ready", log)
    assert log[0].kind == "loading"
    assert ready.info == {
        "model": "your model exact.keras",
        "detection_threshold": 0.5,
        "verification_threshold": 0.5,
        "gallery_size": 1,
        "runtime": "int8",
        "rule": "vote",
        "rule_named": "vote: match above 0.50, verified above 50%",
    }
    assert not root.runtime_cache.exists()  # the int8 copy was beside the model
    result = wait_for(worker, "result", log)
    assert result.request_id == first and result.decision.verified
    assert result.message.startswith("Verified: 1/1")
    assert (root.input_image / "input_image.jpg").is_file()

    second = worker.verify(other)
    result = wait_for(worker, "result", log)
    assert result.request_id == second and not result.decision.verified

    bad = worker.verify(owner[:, :, :2])  # 2 channels
    error = wait_for(worker, "error", log)
    assert error.request_id == bad and "error" in error.message.lower()
    worker.set_thresholds(detection=0.1, verification=0.0)
    worker.verify(other)
    assert wait_for(worker, "result", log).decision.detection_threshold == 0.1
    assert worker.is_alive()

    os.kill(worker.pid, signal.SIGKILL)
    lost = worker.verify(owner)
    died = wait_for(worker, "died", log)
    assert "SIGKILL" in died.message and lost in died.info["lost_requests"]
    assert not worker.is_alive()
    assert all(e.kind != "died" for e in worker.poll())  # reported once
    refused = worker.verify(owner)  # dead: answered at once
    assert [(e.kind, e.request_id) for e in worker.poll()] == [("error", refused)]

    worker.restart()
    ready = wait_for(worker, "ready", log)
    assert ready.info["detection_threshold"] == 0.1  # settings survive a restart
    again = worker.verify(owner)
    result = wait_for(worker, "result", log)
    assert result.request_id == again and result.decision.verified
    assert (result.decision.matches, result.decision.total) == (1, 1)
    worker.stop()
    assert not worker.is_alive() and [e.kind for e in worker.poll()] == []


def test_worker_reports_a_broken_model_and_an_empty_gallery_as_errors(tmp_path):
    root = DataRoot(tmp_path).ensure()
    broken = root.models / "broken.keras"
    broken.write_bytes(b"not a model")
    asked = InferenceWorker(root, model_path=broken)  # asked for by --model: an error
    log = EventLog()
    try:
        asked.start()
        error = wait_for(asked, "error", log)
        assert "broken.keras" in error.message and asked.is_alive()
    finally:
        asked.stop()
    worker = InferenceWorker(root)  # newest, but measured nothing: passed over, and said so
    log = EventLog()
    try:
        worker.start()
        request = worker.verify(frame(OWNER))
        ready = wait_for(worker, "ready", log)
        assert ready.info["model"].startswith("shipped model") and ready.info["gallery_size"] == 0
        assert "your newest model broken.keras is not used" in ready.message
        error = wait_for(worker, "error", log)
        assert error.request_id == request and "no verification images" in error.message
        assert worker.is_alive()
    finally:
        worker.stop()


def test_neither_parent_nor_child_imports_tensorflow(root):
    """A fresh process that uses the worker end to end: neither it nor the worker (on the
    int8 runtime) ever maps TensorFlow's library."""
    script = f"""
import sys, time
from pathlib import Path
import cv2
from faceapp.paths import DataRoot
from faceapp.app.worker import InferenceWorker
worker = InferenceWorker(DataRoot(Path({str(root.root)!r})))
worker.start()
worker.verify(cv2.imread({str(face_photos(OWNER)[0])!r}))
deadline = time.monotonic() + {WAIT}
kinds = []
while "result" not in kinds and time.monotonic() < deadline:
    kinds += [e.kind for e in worker.poll()]
    time.sleep(0.01)
child = Path(f"/proc/{{worker.pid}}/maps").read_text()
worker.stop()
print(kinds[-1], "tensorflow" in sys.modules, "keras" in sys.modules,
      "libtensorflow" in child)
"""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT + 30,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["result", "False", "False", "False"]
