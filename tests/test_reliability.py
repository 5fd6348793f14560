"""Issue 6: bad input at every entry point, faults (kill -9), safety, and no network.

What other files already cover is not repeated here: decoding each kind of bad image
(test_imaging, test_fuzz_loaders), bad model files in the loader (test_model), the app's
bad flags and missing cameras (test_app), the worker dying and restarting (test_worker,
test_app), resuming after a kill between epochs (test_training_run).
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import stat
import subprocess
import sys
import time
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import FACES, face_photos, link_identity_tree
from reliability_support import odd_images, write_sitecustomize
from tiny_models import OTHER, OWNER, claim_quality, enrol, exact_match_model

from faceapp.paths import DataRoot

PROJECT_ROOT = Path(__file__).resolve().parent.parent
POSIX = os.name == "posix"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def one_line(err: str, prefix: str = "error: ") -> str:
    """The single stderr line, after checking there is exactly one and no traceback."""
    assert "Traceback" not in err, err
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith(prefix), err
    return lines[0]


@pytest.fixture(scope="module")
def exact_model(tmp_path_factory) -> Path:
    return exact_match_model(tmp_path_factory.mktemp("exact") / "exact.keras")


@pytest.fixture(scope="module")
def bad_models(tmp_path_factory, exact_model) -> dict[str, Path]:
    """Model files that must each be refused in one line naming the file."""
    import keras

    from faceapp.keras.networks import save_model

    folder = tmp_path_factory.mktemp("bad_models")
    data = exact_model.read_bytes()
    (folder / "truncated.keras").write_bytes(data[: len(data) // 3])
    (folder / "random.keras").write_bytes(random.Random(6).randbytes(4096))
    (folder / "random.h5").write_bytes(random.Random(7).randbytes(4096))
    (folder / "folder.keras").mkdir()
    inputs = keras.Input((32, 32, 3))
    wrong = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(inputs)))
    save_model(wrong, folder / "wrong_shape.keras")
    return {
        "missing": folder / "missing.keras",
        "truncated": folder / "truncated.keras",
        "random bytes": folder / "random.keras",
        "random bytes .h5": folder / "random.h5",
        "a folder": folder / "folder.keras",
        "wrong shape": folder / "wrong_shape.keras",
    }


def install_model(model: Path, folder: Path, stem: str | None = None) -> Path:
    """Copy a model's three files (Keras, int8 copy, metadata) into ``folder``, renamed to
    ``stem`` if given; return the new Keras file."""
    stem = stem or model.stem
    for suffix in (".keras", ".json", ".int8.tflite"):
        (folder / f"{stem}{suffix}").write_bytes(model.with_name(model.stem + suffix).read_bytes())
    return folder / f"{stem}.keras"


@pytest.fixture
def owner_root(tmp_path_factory, exact_model) -> DataRoot:
    """A fresh root per test: some tests drop odd files into it."""
    root = DataRoot(tmp_path_factory.mktemp("root")).ensure()
    enrol(root.verification_images, face_photos(OWNER, slice(0, 1)))
    install_model(exact_model, root.models)
    return root


# --- 3. safety: a .keras model never runs code it carries --------------------------------------


def test_keras_model_with_a_lambda_is_refused_and_its_code_never_runs(tmp_path):
    import keras

    from faceapp.errors import FaceappError
    from faceapp.keras.networks import load_model, save_model

    marker = tmp_path / "code-ran.txt"

    first, second = keras.Input((100, 100, 3)), keras.Input((100, 100, 3))
    merged = keras.layers.Lambda(lambda pair: pair[0] - pair[1])([first, second])
    # the payload: any code at all, stored as Python bytecode in the file
    code = eval(f"lambda x: (open({str(marker)!r}, 'a').write('ran'), x)[1]")
    payload = keras.layers.Lambda(code)(merged)
    score = keras.layers.Dense(1, activation="sigmoid")(
        keras.layers.GlobalAveragePooling2D()(payload)
    )
    path = save_model(keras.Model([first, second], score), tmp_path / "evil.keras")
    marker.unlink()  # building the model ran it once, here, on purpose

    with pytest.raises(FaceappError) as refused:
        load_model(path)
    message = str(refused.value)
    assert "\n" not in message and str(path) in message and "contains Python code" in message
    assert not marker.exists()
    # control: the same file loaded without safe mode does run the code, so the test can fail
    keras.saving.load_model(path, compile=False, safe_mode=False)
    assert marker.exists()


def test_help_of_every_model_loading_command_says_h5_must_be_trusted():
    from faceapp import verify
    from faceapp.app import options as cli
    from training import evaluate, run

    helps = {
        "main.py": cli.build_parser().format_help(),
        "faceapp.verify": verify.build_parser().format_help(),
        "training.run": run.build_parser().format_help(),
        "training.evaluate": evaluate.build_parser().format_help(),
    }
    for name, text in helps.items():
        flat = " ".join(text.split())
        assert ".h5" in flat and "trusted source" in flat, name


# --- 1. bad input: flags, thresholds, model files ------------------------------------------------


@pytest.mark.parametrize(
    "module, argv, names",
    [
        ("faceapp.verify", ["--timeout", "abc", "x.jpg"], "--timeout"),
        ("faceapp.verify", ["--frobnicate"], "--frobnicate"),
        ("training.run", ["--epochs", "many"], "--epochs"),
        ("training.evaluate", ["pairs", "--limit", "x"], "--limit"),
        ("training.evaluate", ["nonsense"], "nonsense"),
        ("training.import_negatives", ["--limit", "ten", "x"], "--limit"),
    ],
)
def test_argument_errors_are_one_line(module, argv, names, capsys):
    import importlib

    main = importlib.import_module(module).main
    try:  # argparse exits; values checked after parsing return 2 through cli_guard
        code = main(argv)
    except SystemExit as exit_info:
        code = exit_info.code
    assert code == 2
    assert names in one_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    "argv, names",
    [
        (["pairs", "--detection-threshold", "1.5"], "--detection-threshold"),
        (["pairs", "--detection-threshold", "-0.1"], "--detection-threshold"),
        (["pairs", "--detection-threshold", "nan"], "--detection-threshold"),
        (["owner", "--verification-threshold", "abc"], "--verification-threshold"),
        (["owner", "--max-far", "1.5"], "--max-far"),
        (["validation", "--target-far", "2"], "--target-far"),
        (["validation", "--target-far", "-1"], "--target-far"),
    ],
)
def test_evaluate_thresholds_outside_0_1_are_one_line_errors(
    argv, names, exact_model, tmp_path, capsys
):
    """Checked before any work (loading the model, reading LFW), so the mistake costs nothing."""
    from training.evaluate import main

    lfw = [] if argv[0] == "validation" else ["--lfw", str(tmp_path)]
    code = main([*argv, "--model", str(exact_model), *lfw])
    assert code == 2
    assert names in one_line(capsys.readouterr().err)


def test_evaluate_validation_of_a_recipe_model_is_a_one_line_error(exact_model, tmp_path, capsys):
    """training.recipes writes "training" settings without a pair split to rebuild."""
    from faceapp.models.metadata import write_metadata
    from training.evaluate import main

    model = tmp_path / "identity-x.keras"
    model.write_bytes(exact_model.read_bytes())
    write_metadata(
        model,
        {
            "training": {
                "recipe": "identity-pretrain",
                "seed": 42,
                "tree": str(tmp_path),
                "crop": "haar",
                "data_root": str(tmp_path),
            }
        },
    )
    code = main(["validation", "--model", str(model)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "pairs or owner evaluation" in one_line(err)


@pytest.mark.parametrize(
    "kind", ["missing", "truncated", "random bytes", "random bytes .h5", "a folder", "wrong shape"]
)
def test_bad_model_files_are_one_line_errors_in_verify_and_evaluate(
    kind, bad_models, owner_root, face_path, capsys
):
    from faceapp.verify import main as verify
    from training.evaluate import main as evaluate

    model = bad_models[kind]
    assert verify([str(face_path), "--model", str(model), "--data-root", str(owner_root.root)]) == 2
    assert model.name in one_line(capsys.readouterr().err)
    assert (
        evaluate(
            ["pairs", "--model", str(model), "--lfw", str(face_path.parent.parent), "--limit", "1"]
        )
        == 2
    )
    assert model.name in one_line(capsys.readouterr().err)


# --- 1. bad input: odd image files at every entry point ------------------------------------------


def test_verify_cli_takes_each_odd_image_and_skips_bad_enrolled_ones(
    owner_root, face_path, tmp_path, capsys
):
    from faceapp.verify import main

    zoo = odd_images(tmp_path / "zoo", face_path)
    root = ["--data-root", str(owner_root.root)]
    for label, (path, readable) in zoo.items():
        code = main([str(path), *root])
        out, err = capsys.readouterr()
        if readable:
            assert code in (0, 1) and err == "" and out.startswith(("Verified", "Unverified")), (
                label,
                out,
                err,
            )
        else:
            assert code == 2 and path.name in one_line(err), (label, err)
    # a folder given where a photo is expected: judged frame by frame, never a crash
    code = main([str(tmp_path / "zoo" / "subfolder.jpg"), "--timeout", "2", *root])
    out, err = capsys.readouterr()
    assert code == 2 and "no images" in one_line(err)

    # the same files dropped into verification_images/: one warning, then a decision
    odd_images(owner_root.verification_images, face_path)
    code = main([str(face_photos(OWNER)[0]), *root])
    out, err = capsys.readouterr()
    warning = one_line(err, "warning: skipped 3 unreadable verification images")
    assert "(and 2 more)" in warning
    # 7 usable: the enrolled face and the 6 readable odd files (variants of the same photo)
    assert "/7 matches" in out and code == (0 if out.startswith("Verified") else 1), out
    assert mode(owner_root.input_image / "input_image.jpg") == 0o600 or not POSIX


def test_import_negatives_skips_bad_files_in_one_warning_and_keeps_them_private(
    face_path, data_root, tmp_path, capsys
):
    from training.import_negatives import main

    source = tmp_path / "source"
    zoo = odd_images(source / "Someone", face_path)
    (source / ".cache").mkdir()
    (source / ".cache" / "thumb.jpg").write_bytes(face_path.read_bytes())
    assert main([str(source)]) == 0
    out, err = capsys.readouterr()
    assert one_line(err, "warning: skipped 3 unreadable images").count("\n") == 0
    imported = sorted(p.name for p in (data_root / "negative").iterdir())
    assert imported == sorted(p.name for p, readable in zoo.values() if readable)
    if POSIX:
        assert mode(data_root / "negative") == 0o700
        assert {mode(data_root / "negative" / name) for name in imported} == {0o600}


def test_training_skips_bad_images_in_one_warning_then_refuses_a_bad_model(
    bad_models, face_path, tmp_path, capsys
):
    """training.run on owner folders full of odd files: one warning, then (bad --init-from)
    one error naming the model; never a traceback."""
    from training.run import main

    root = DataRoot(tmp_path / "root").ensure()
    for folder, person, which in (
        (root.anchor, OWNER, slice(0, 6)),
        (root.positive, OWNER, slice(6, 12)),
        (root.negative, OTHER, slice(0, 4)),
        (root.negative, "Tom_Daschle", slice(0, 4)),
    ):
        for photo in face_photos(person, which):
            (folder / photo.name).write_bytes(photo.read_bytes())
    odd_images(root.anchor, face_path)
    for kind in ("truncated", "wrong shape"):
        model = bad_models[kind]
        code = main(
            [
                "--data-root",
                str(root.root),
                "--architecture",
                "tiny",
                "--crop",
                "none",
                "--epochs",
                "1",
                "--init-from",
                str(model),
            ]
        )
        out, err = capsys.readouterr()
        lines = err.strip().split("\n")
        assert code == 2 and "Traceback" not in err, err
        assert len(lines) == 2, err
        assert lines[0].startswith("warning: skipped 3 unreadable images")
        assert lines[1].startswith("error: ") and model.name in lines[1]


def test_verify_cli_missing_webcam_and_a_video_that_ends(owner_root, tmp_path, capsys):
    """A missing webcam is an error of its own (exit 2 at once: 1 means a stranger); a video
    that ends with no face is not: no frame could be judged, exit 1, and the story says why."""
    from app_support import make_video

    from faceapp.verify import main

    root = ["--data-root", str(owner_root.root)]
    assert main(["--camera", "7", "--timeout", "1", *root]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: no camera at index 7"), err
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((240, 320, 3), 128, np.uint8))
    video = make_video(tmp_path / "short.avi", [blank], repeat=2)
    assert main([str(video), "--timeout", "30", *root]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("Unverified: no frame could be judged") and err == "", (out, err)


def test_evaluate_leaves_out_pairs_with_odd_images_in_one_warning_each(
    exact_model, face_path, tmp_path, capsys
):
    """LFW pairs where some photos are unreadable: those pairs are left out, the rest scored."""
    from training.evaluate import main

    tree = tmp_path / "lfw"
    people = {"Anna": face_photos(OWNER, slice(0, 3)), "Bert": face_photos(OTHER, slice(0, 3))}
    for person, sources in people.items():
        (tree / person).mkdir(parents=True)
        for k, source in enumerate(sources, start=1):
            (tree / person / f"{person}_{k:04d}.jpg").write_bytes(source.read_bytes())
    zoo = odd_images(tmp_path / "zoo", face_path)
    (tree / "Anna" / "Anna_0002.jpg").write_bytes(zoo["truncated"][0].read_bytes())
    (tree / "Bert" / "Bert_0003.jpg").write_bytes(zoo["text"][0].read_bytes())
    (tree / "pairs.txt").write_text(
        "2\t2\n"
        "Anna\t1\t3\nBert\t1\t2\nAnna\t1\tBert\t1\nAnna\t2\tBert\t2\n"
        "Anna\t1\t2\nBert\t1\t2\nAnna\t3\tBert\t3\nAnna\t3\tBert\t1\n"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # would be a second, multi-line message
        code = main(
            [
                "pairs",
                "--model",
                str(exact_model),
                "--lfw",
                str(tree),
                "--out",
                str(tmp_path / "out"),
            ]
        )
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err, err
    lines = err.strip().split("\n")
    assert lines[0].startswith("warning: skipped 2 unreadable images"), err
    assert lines[1] == "warning: 3 pairs left out (image missing or unreadable)", err
    assert len(lines) == 2 and "LFW pairs (5)" in out, (out, err)


@pytest.mark.slow
def test_app_worker_reports_each_bad_model_and_keeps_going(bad_models, exact_model, tmp_path):
    """The app's inference process, given bad model files one after another (the newest under
    models/ is used): one error line each, it stays alive, and a good model then works."""
    from test_worker import EventLog

    from faceapp.app.worker import InferenceWorker

    root = DataRoot(tmp_path / "root").ensure()
    enrol(root.verification_images, face_photos(OWNER, slice(0, 1)))
    face = cv2.imread(str(face_photos(OWNER)[0]))
    worker, log = InferenceWorker(root), EventLog()
    try:
        for k, kind in enumerate(["truncated", "random bytes", "wrong shape"]):
            model = root.models / f"{k}-{bad_models[kind].name}"
            model.write_bytes(bad_models[kind].read_bytes())
            claim_quality(model)  # measured well, it claims: so the app tries it
            os.utime(model, ns=(k + 10**18, k + 10**18))  # the newest
            if k == 0:
                worker.start()
            else:
                worker.verify(face)  # retries loading the newest model
            messages = [log.wait(worker, "error").message]
            while model.name not in messages[-1] and len(messages) < 3:  # earlier request's
                messages.append(log.wait(worker, "error").message)
            assert model.name in messages[-1] and "\n" not in messages[-1], messages
            assert worker.is_alive()
        good = install_model(exact_model, root.models, "good")
        os.utime(good, ns=(10**18 + 10, 10**18 + 10))
        worker.verify(face)
        assert log.wait(worker, "ready").info["gallery_size"] == 1
        assert log.wait(worker, "result").decision.verified
    finally:
        worker.stop()


# --- 2. faults: kill -9 during a capture ------------------------------------------------------

CAPTURE_LOOP = """
import sys, cv2
from faceapp.storage import save_image
face = cv2.imread(sys.argv[1])
print("ready", flush=True)
while True:
    save_image(face, sys.argv[2])
"""


def test_kill_during_captures_never_leaves_a_partial_image(face_path, tmp_path):
    """The app's capture path (faceapp.storage.save_image), killed with SIGKILL at random
    moments: every file a listing shows decodes, and is private."""
    from faceapp.vision.imaging import list_images, read_image

    folder = tmp_path / "data" / "anchor"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    rng = random.Random(6)
    for _ in range(4):
        process = subprocess.Popen(
            [sys.executable, "-c", CAPTURE_LOOP, str(face_path), str(folder)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.2, 0.6))
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        visible = [p for p in folder.iterdir() if not p.name.startswith(".")]
        assert visible and sorted(visible) == list_images(folder)
        for path in visible:
            assert read_image(path).shape == (250, 250, 3), path
            assert not POSIX or mode(path) == 0o600
    assert not POSIX or mode(folder) == 0o700


# --- 2 and 4. kill -9 in the middle of a checkpoint write; no network anywhere ------------------


def audited_env(tmp_path: Path, **extra) -> tuple[dict, Path]:
    """Environment whose Python processes log every internet connection to the returned file."""
    hooks = write_sitecustomize(tmp_path / "audit_site")
    log = tmp_path / "network.log"
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "FACEAPP_NET_LOG": str(log),
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(hooks), str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])
        ),
        **extra,
    }
    return env, log


def test_network_audit_hook_catches_a_real_connection(tmp_path):
    """Positive control: the hook used below does see a connection (so those tests can fail)."""
    env, log = audited_env(tmp_path)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        code = f"import socket; s = socket.create_connection(('127.0.0.1', {port})); s.close()"
        subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=30)
    assert f"socket.connect ('127.0.0.1', {port})" in log.read_text()


@pytest.mark.slow
def test_kill_during_a_checkpoint_write_then_resume_without_network(tmp_path):
    """Training killed (SIGKILL) while a checkpoint is half-written: the checkpoint named in
    state.json still loads, resuming works, everything written is private, and the whole
    run made no network connection."""
    import keras

    from faceapp.keras.networks import L1Dist

    tree = tmp_path / "tree"
    link_identity_tree(FACES, tree, people=8, images=3)
    root = tmp_path / "root"
    args = [
        sys.executable,
        "-m",
        "training.run",
        "--data-root",
        str(root),
        "--tree",
        str(tree),
        "--architecture",
        "tiny",
        "--tree-pairs",
        "32",
        "--batch-size",
        "8",
        "--steps-per-epoch",
        "1",
        "--checkpoint-every",
        "1",
        "--crop",
        "none",
        "--verbose",
        "2",
    ]
    env, log = audited_env(tmp_path, FACEAPP_SLOW_KERAS_WRITE="3")
    first = subprocess.Popen(
        [*args, "--epochs", "100"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    half_written = None
    deadline = time.monotonic() + 150
    try:
        while time.monotonic() < deadline and first.poll() is None and half_written is None:
            for temp in root.glob("checkpoints/run-*/.epoch-*.tmp-*"):
                if not temp.name.startswith(".epoch-0001"):
                    half_written = temp  # epoch 1 is complete, epoch 2+ is being written
            time.sleep(0.05)
    finally:
        first.kill()
        output = first.communicate()[0]
    assert half_written is not None, output[-3000:]
    run = half_written.parent
    state = json.loads((run / "state.json").read_text())
    visible = sorted(p.name for p in run.iterdir() if not p.name.startswith("."))
    assert f"epoch-{state['epoch']:04d}.keras" in visible and state["finished"] is False
    assert all(
        name.startswith("epoch-") or name in ("state.json", "history.csv") for name in visible
    ), visible
    checkpoint = keras.saving.load_model(
        run / state["checkpoint"], custom_objects={"L1Dist": L1Dist}
    )
    assert checkpoint.optimizer is not None

    done = state["epoch"]
    env.pop("FACEAPP_SLOW_KERAS_WRITE")
    second = subprocess.run(
        [*args, "--epochs", str(done + 1)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert f"resuming from the checkpoint at epoch {done}" in second.stdout
    assert not list(run.glob(".*.tmp-*")), "stale temporary files left in the run folder"
    assert (log.read_text() if log.exists() else "") == ""
    assert Path(f"{log}.processes").read_text().count("training.run") == 2
    if POSIX:
        for path in [root, *root.rglob("*")]:
            if path.is_dir():
                assert mode(path) == 0o700, path
            else:
                assert mode(path) == 0o600, path


@pytest.mark.gui
@pytest.mark.slow
def test_app_and_headless_verify_make_no_network_connection(exact_model, tmp_path):
    """The real window (enrol, verify, worker in a spawned process) and faceapp.verify, under
    the audit hook: not one internet connection or host-name lookup. Odd files dropped into
    verification_images/ and anchor/ give one warning and never stop verification."""
    import shutil

    from app_support import make_video, run_app

    from faceapp.app.autopilot import start_xvfb

    env, log = audited_env(tmp_path)
    root = DataRoot(tmp_path / "root").ensure()
    install_model(exact_model, root.models)
    for folder in (root.verification_images, root.anchor):  # odd files dropped in by hand
        odd_images(folder, face_photos("Tom_Daschle")[0])
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed")
    xvfb, display = start_xvfb()
    try:
        video = make_video(tmp_path / "owner.avi", face_photos(OWNER, slice(0, 4)))
        env.update(DISPLAY=display, KIVY_HOME=str(tmp_path / "kivy"), KIVY_NO_ARGS="1")
        steps = [
            {"wait": "frames", "count": 3},
            {"wait": "ready", "timeout": 90},
            {"record": "ready"},
            {"key": "e"},
            {"wait": "idle", "timeout": 60},
            {"key": "v"},
            {"wait": "idle", "timeout": 60},
            {"record": "verify"},
        ]
        report = run_app(
            steps,
            ["--camera", str(video), "--data-root", str(root.root)],
            env,
            tmp_path / "app",
            timeout=180,
        )
    finally:
        xvfb.terminate()
        xvfb.wait(10)
    assert report.get("error") is None and report["returncode"] == 0, report
    records = report["records"]
    assert "skipped 3 unreadable verification images" in records["ready"]["status"], records
    # the 6 readable odd files and the face enrolled with 'e' are compared; the window stayed
    assert records["verify"]["decision"]["total"] == 7, records["verify"]
    assert records["verify"]["result"] in ("Verified", "Unverified")
    verify = subprocess.run(
        [
            sys.executable,
            "-m",
            "faceapp.verify",
            "--data-root",
            str(root.root),
            str(face_photos(OTHER)[0]),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 1 and verify.stdout.startswith("Unverified"), verify.stderr
    assert (log.read_text() if log.exists() else "") == ""
    watched = Path(f"{log}.processes").read_text()
    assert "faceapp.app.autopilot" in watched and "faceapp.verify" in watched
    assert "spawn_main" in watched, watched  # the inference worker was watched too
