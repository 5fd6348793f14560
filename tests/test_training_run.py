"""``python -m training.run`` for real: a short run on LFW images, resume after a kill, errors.

Small on purpose: the ``tiny`` architecture, a few dozen LFW images, a few steps.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import face_photos, link_identity_tree
from tiny_models import OWNER

from faceapp.models.metadata import read_metadata
from faceapp.paths import DataRoot
from faceapp.verification.rule import Thresholds
from faceapp.vision.imaging import preprocess, read_image

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TINY = ["--architecture", "tiny", "--tree-pairs", "48", "--batch-size", "8", "--verbose", "2"]


@pytest.fixture(scope="module")
def tiny_tree(lfw, tmp_path_factory) -> Path:
    """10 LFW people with 3-4 images each (links), and one corrupt image among them."""
    tree = tmp_path_factory.mktemp("tree")
    people = link_identity_tree(lfw, tree, people=10, images=4)
    (tree / people[0].name / f"{people[0].name}_0099.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    return tree


def run_training(args: list[str], env: dict | None = None, **popen) -> subprocess.Popen:
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "training.run", *args],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **popen,
    )


@pytest.fixture(scope="module")
def trained(tiny_tree, tmp_path_factory):
    """One real in-process run: 3 epochs, checkpoint every 2."""
    from training.run import main

    root = tmp_path_factory.mktemp("root")
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(
            [
                "--data-root",
                str(root),
                "--tree",
                str(tiny_tree),
                "--epochs",
                "3",
                "--checkpoint-every",
                "2",
                "--h5",
                *TINY,
            ]
        )
    assert code == 0, err.getvalue()
    models = sorted((root / "models").glob("*.keras"))
    assert len(models) == 1
    return root, models[0], err.getvalue()


def test_a_real_run_writes_model_metadata_history_plots_and_checkpoint(trained):
    root, model_path, stderr = trained
    from faceapp.keras.networks import load_model

    model = load_model(model_path)
    assert load_model(model_path.with_suffix(".h5")).count_params() == model.count_params()
    metadata = read_metadata(model_path)
    assert metadata["architecture"] == "tiny" and metadata["input_size"] == [100, 100, 3]
    assert metadata["epochs"] == 3
    thresholds = Thresholds.resolve(metadata=metadata)
    assert thresholds.detection == metadata["detection_threshold"]
    data = metadata["data"]
    assert data["train_pairs"] > 0 and data["validation_pairs"] > 0 and data["images_skipped"] == 1
    assert data["train_people"] + data["validation_people"] == 10
    validation = metadata["metrics"]["validation"]
    for key in ("roc_auc", "eer", "threshold_at_target_far", "at_threshold"):
        assert key in validation
    assert set(validation["at_threshold"]) >= {"precision", "recall", "accuracy"}

    history = pd.read_csv(model_path.with_suffix(".history.csv"))
    assert history["epoch"].tolist() == [0, 1, 2]
    assert {"loss", "val_loss", "precision", "recall", "accuracy"} <= set(history.columns)
    for suffix in (".curves.png", ".roc.png", ".scores.png"):
        assert model_path.with_suffix(suffix).read_bytes()[:4] == b"\x89PNG"

    checkpoints = list((root / "checkpoints").glob("run-*/epoch-*.keras"))
    assert sorted(p.name for p in checkpoints) == ["epoch-0002.keras", "epoch-0003.keras"]
    assert json.loads((checkpoints[0].parent / "state.json").read_text())["finished"] is True
    # the app's int8 copy and the head are written beside it: the app starts without
    # TensorFlow, and the copy is the one the metadata's digest names
    from faceapp.models.runtime import file_sha256

    int8 = model_path.with_name(model_path.stem + ".int8.tflite")
    assert metadata["int8"]["sha256"] == file_sha256(int8)
    assert (
        len(metadata["head"]["kernel"]) == 32 and metadata["crop"] == metadata["training"]["crop"]
    )
    # the corrupt image: one warning line naming it
    warnings = [line for line in stderr.splitlines() if line.startswith("warning:")]
    assert (
        len(warnings) == 1 and "skipped 1 unreadable" in warnings[0] and "_0099.jpg" in warnings[0]
    )


def test_existing_model_is_never_overwritten(trained, tiny_tree, capsys):
    from training.run import main

    root, model_path, _ = trained
    before = model_path.read_bytes()
    code = main(
        ["--data-root", str(root), "--tree", str(tiny_tree), "--output", str(model_path), *TINY]
    )
    assert code == 2
    assert "refusing to overwrite existing model" in capsys.readouterr().err
    assert model_path.read_bytes() == before


def test_missing_owner_folders_are_a_one_line_error(data_root, capsys):
    from training.run import main

    assert main(["--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: training folder not found")
    assert str(data_root / "anchor") in err


def test_help_gives_every_option_a_default():
    from training.run import build_parser

    for action in build_parser()._actions:
        if action.option_strings and action.dest != "help" and action.nargs != 0:
            assert "default" in (action.help or ""), action.option_strings


def test_pipeline_feeds_the_shared_preprocessing(tiny_tree):
    from training.pairs import data

    people = data.list_tree(tiny_tree)
    pairs = data.tree_pairs(people, 8, np.random.default_rng(0))
    table = data.load_table(data.pair_paths(pairs), warn=False)
    rows = table.indices(pairs)
    (first, second), labels = next(iter(data.make_dataset(rows, table.images, batch_size=8)))
    assert (
        first.shape == (len(rows), 100, 100, 3) and labels.numpy().tolist() == rows[:, 2].tolist()
    )
    np.testing.assert_array_equal(first.numpy()[0], preprocess(pairs_first(pairs, table, rows)))
    augmented = data.make_dataset(rows, table.images, 8, shuffle=True, augment=True, seed=1)
    (a, b), _ = next(iter(augmented))
    assert float(np.min(a)) >= 0.0 and float(np.max(b)) <= 1.0


def pairs_first(pairs, table, rows):
    by_index = {index: path for path, index in table.index.items()}
    return by_index[int(rows[0, 0])]


def test_evaluate_commands_on_the_trained_model(trained, lfw, capsys):
    from training.evaluate import main

    root, model_path, _ = trained
    out = model_path.with_suffix(".eval")
    assert main(["validation", "--model", str(model_path)]) == 0
    report = json.loads((out / "validation-report.json").read_text())
    assert report["pairs"] == read_metadata(model_path)["data"]["validation_pairs"]

    assert (
        main(
            [
                "pairs",
                "--model",
                str(model_path),
                "--lfw",
                str(lfw),
                "--folds",
                "1-2",
                "--limit",
                "5",
            ]
        )
        == 0
    )
    report = json.loads((out / "lfw-pairs-report.json").read_text())
    assert [row["fold"] for row in report["folds"]] == [1, 2] and report["pairs"] == 20
    assert {
        "mean_accuracy",
        "std_accuracy",
        "roc_auc",
        "eer",
        "tar_at_far_1e-2",
        "tar_at_far_1e-3",
    } <= set(report)
    scores = pd.read_csv(out / "lfw-pairs-scores.csv")
    assert len(scores) == 20 and scores["score"].between(0, 1).all()
    assert (out / "lfw-pairs-roc.png").exists()

    assert (
        main(
            [
                "owner",
                "--model",
                str(model_path),
                "--lfw",
                str(lfw),
                "--owner",
                "Tony_Blair",
                "--enroll",
                "5",
                "--impostors",
                "20",
            ]
        )
        == 0
    )
    report = json.loads((out / "owner-Tony_Blair-report.json").read_text())
    assert report["impostor_probes"] == 20 and report["genuine_probes"] == 139
    assert 0 <= report["configured"]["far"] <= 1
    assert len(pd.read_csv(out / "owner-Tony_Blair-sweep.csv")) == 101
    assert "false-reject rate" in capsys.readouterr().out


def test_resume_after_kill_continues_from_the_checkpoint(tiny_tree, tmp_path):
    args = [
        "--data-root",
        str(tmp_path),
        "--tree",
        str(tiny_tree),
        "--checkpoint-every",
        "2",
        "--steps-per-epoch",
        "2",
        "--crop",
        "none",
        *TINY,
    ]
    first = run_training([*args, "--epochs", "1000"])
    state_files = tmp_path / "checkpoints"
    deadline = time.monotonic() + 120
    state = {}
    try:
        while time.monotonic() < deadline and first.poll() is None:
            found = list(state_files.glob("run-*/state.json"))
            if found:
                state = json.loads(found[0].read_text())
                break
            time.sleep(0.2)
    finally:
        first.kill()
        output = first.communicate()[0]
    assert state.get("epoch", 0) >= 2, output
    state = json.loads(found[0].read_text())  # the last checkpoint written before the kill
    done = state["epoch"]

    second = run_training([*args, "--epochs", str(done + 2)])
    output = second.communicate(timeout=180)[0]
    assert second.returncode == 0, output
    assert f"resuming from the checkpoint at epoch {done}" in output
    assert f"Epoch {done + 1}/{done + 2}" in output and "Epoch 1/" not in output
    model = next((tmp_path / "models").glob("*.keras"))
    assert read_metadata(model)["epochs"] == done + 2
    history = pd.read_csv(model.with_suffix(".history.csv"))
    assert history["epoch"].tolist() == list(range(done + 2))


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_workers_train_together_over_loopback(tiny_tree, tmp_path):
    workers = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]
    processes = []
    for index in range(2):
        config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        processes.append(
            run_training(
                [
                    "--data-root",
                    str(tmp_path),
                    "--tree",
                    str(tiny_tree),
                    "--epochs",
                    "2",
                    "--steps-per-epoch",
                    "2",
                    "--crop",
                    "none",
                    *TINY,
                ],
                env={"TF_CONFIG": json.dumps(config)},
            )
        )
    outputs = []
    for process in processes:
        try:
            outputs.append(process.communicate(timeout=240)[0])
        except subprocess.TimeoutExpired:
            for p in processes:
                p.kill()
            raise
    for process, output in zip(processes, outputs):
        assert process.returncode == 0, output
    models = list((tmp_path / "models").glob("*.keras"))
    assert len(models) == 1  # only the chief writes
    assert read_metadata(models[0])["epochs"] == 2
    assert "model:" in outputs[0] and "model:" not in outputs[1]


def test_owner_folders_and_fine_tuning_from_a_model(trained, lfw, tmp_path):
    from training.import_negatives import import_negatives
    from training.run import main

    _, model_path, _ = trained
    root = tmp_path / "owner"
    blair = sorted((lfw / "Tony_Blair").glob("*.jpg"))
    for folder, images in (("anchor", blair[:6]), ("positive", blair[6:12])):
        (root / folder).mkdir(parents=True)
        for image in images:
            (root / folder / image.name).symlink_to(image)
    others = tmp_path / "others"
    for person in ("Abdullah_Gul", "Colin_Powell", "Gerhard_Schroeder", "Hugo_Chavez"):
        (others / person).mkdir(parents=True)
        for image in sorted((lfw / person).glob("*.jpg"))[:2]:
            (others / person / image.name).symlink_to(image)
    import_negatives(others, root / "negative")

    assert (
        main(
            [
                "--data-root",
                str(root),
                "--init-from",
                str(model_path),
                "--epochs",
                "1",
                "--batch-size",
                "4",
                "--verbose",
                "0",
            ]
        )
        == 0
    )
    tuned = next((root / "models").glob("*.keras"))
    metadata = read_metadata(tuned)
    assert metadata["architecture"] == "tiny"  # taken from the model it started from
    assert metadata["training"]["init_from"] == str(model_path.resolve())
    assert metadata["data"]["anchor_images"] == 6 and metadata["data"]["negative_images"] == 8


def test_bf16_run_trains_in_mixed_precision_and_saves_a_float32_model(tiny_tree, tmp_path):
    """--precision bf16: bfloat16 maths while training, a float32 model for the app."""
    import contextlib
    import io

    from faceapp.keras.networks import load_model
    from training.run import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(
            [
                "--data-root",
                str(tmp_path),
                "--tree",
                str(tiny_tree),
                "--epochs",
                "1",
                "--checkpoint-every",
                "1",
                "--precision",
                "bf16",
                *TINY,
            ]
        )
    assert code == 0, err.getvalue()
    (model_path,) = sorted((tmp_path / "models").glob("*.keras"))
    assert read_metadata(model_path)["training"]["precision"] == "bf16"
    exported = load_model(model_path)
    assert {layer.dtype_policy.name for layer in exported.layers} == {"float32"}
    (checkpoint,) = sorted((tmp_path / "checkpoints").glob("*/epoch-*.keras"))
    trained = load_model(checkpoint)
    assert "mixed_bfloat16" in {layer.dtype_policy.name for layer in trained.layers}
    for mine, theirs in zip(exported.get_weights(), trained.get_weights()):
        np.testing.assert_array_equal(mine, theirs)


def test_output_beside_a_stale_metadata_file_is_refused_before_training(tmp_path):
    """A leftover foo.json would otherwise block the metadata write after training, leaving
    the new model beside someone else's thresholds."""
    from types import SimpleNamespace

    from faceapp.errors import FaceappError
    from faceapp.paths import DataRoot
    from training.pairs.fit import output_path

    (tmp_path / "foo.json").write_text('{"detection_threshold": 0.99}')
    args = SimpleNamespace(output=str(tmp_path / "foo.keras"), h5=False)
    with pytest.raises(FaceappError, match="foo.json"):
        output_path(args, DataRoot(tmp_path))


def test_training_learns_on_the_fixture_faces(tmp_path):
    """A no-op trainer must fail: ten epochs on one owner's fixture photos against seven other
    people must fit the pairs far better than the untrained network (the pairs' cross-entropy
    down, their ROC AUC up by a clear margin), measured here, not read from the run's log.
    (Eight people are too few for a 40k-parameter network to generalise to new people, so
    what is measured is that it fits the owner's photos; docs/accuracy.md measures
    generalisation on LFW.)"""
    from tiny_models import export_tiny

    from faceapp.models.files import files_of
    from faceapp.models.runtime import load_model
    from training.evaluation.metrics import roc_auc
    from training.run import main

    root = DataRoot(tmp_path / "root").ensure()
    photos = face_photos(OWNER)
    assert len(photos) >= 12
    for folder, chosen in ((root.anchor, photos[:6]), (root.positive, photos[6:12])):
        for photo in chosen:
            (folder / photo.name).write_bytes(photo.read_bytes())
    others = [p for p in (PROJECT_ROOT / "tests/fixtures/faces").iterdir() if p.is_dir()]
    for person in others:
        if person.name != OWNER:
            for photo in face_photos(person.name):
                (root.negative / photo.name).write_bytes(photo.read_bytes())
    settings = ["--architecture", "tiny", "--crop", "aligned", "--batch-size", "16"]
    settings += ["--pairs-per-anchor", "6", "--learning-rate", "1e-3", "--no-augment"]
    code = main(["--data-root", str(root.root), "--epochs", "10", "--verbose", "0", *settings])
    assert code == 0
    (trained,) = root.models.glob("*.keras")
    untrained = export_tiny(tmp_path / "untrained" / "untrained.keras")

    def fit(model_file: Path) -> tuple[float, float]:
        """(cross-entropy, ROC AUC) of every anchor against every positive and negative."""
        model = load_model(files_of(model_file), "int8")

        def embedded(folder: Path):
            paths = sorted(folder.glob("*.jpg"))
            return model.embed_pictures([model.picture(read_image(p)) for p in paths])

        anchors = embedded(root.anchor)
        same = np.concatenate([model.head.scores(a, embedded(root.positive)) for a in anchors])
        other = np.concatenate([model.head.scores(a, embedded(root.negative)) for a in anchors])
        eps = 1e-6
        loss = -np.mean(np.log(same + eps)) - np.mean(np.log(1 - other + eps))
        labels = np.r_[np.ones(len(same)), np.zeros(len(other))]
        return float(loss), roc_auc(labels, np.r_[same, other])

    (loss_before, auc_before), (loss_after, auc_after) = fit(untrained), fit(trained)
    assert loss_after < 0.85 * loss_before, (loss_before, loss_after)
    assert auc_after > auc_before + 0.25 and auc_after > 0.75, (auc_before, auc_after)
