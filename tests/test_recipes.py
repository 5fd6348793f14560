"""Identity pre-training recipe (training/identity/, training/recipes.py), at tiny sizes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import link_identity_tree

from faceapp.errors import FaceappError


def fake_people(counts: dict[str, int]) -> dict[str, list[Path]]:
    return {
        name: [Path(f"/x/{name}/{name}_{k:04d}.jpg") for k in range(1, n + 1)]
        for name, n in counts.items()
    }


def test_identity_split_keeps_class_and_head_people_apart():
    from training.identity.classifier import identity_split

    people = fake_people({f"P{k}": (k % 5) + 1 for k in range(40)} | {"Big": 120})
    split = identity_split(people, min_images=2, max_images=10, head_fraction=0.2, seed=1)
    assert not set(split.classes) & set(split.head)
    assert all(2 <= len(v) <= 10 for v in split.classes.values())
    assert set(split.classes) | set(split.head) == set(people)  # min_images 2: everyone is used
    singles = {n for n, v in people.items() if len(v) == 1}
    assert singles <= set(split.head)  # single-image people serve as impostors only
    assert split == identity_split(people, 2, 10, 0.2, seed=1)  # deterministic
    with_singles = identity_split(people, min_images=1, max_images=10, head_fraction=0.2, seed=1)
    assert singles <= set(with_singles.classes)  # each single-image person is a class of its own
    assert set(with_singles.head) == set(split.head) - singles
    with pytest.raises(FaceappError):
        identity_split(fake_people({"A": 1, "B": 1}))


def test_margin_loss_penalises_the_margin():
    from training.identity.classifier import margin_loss

    cosines = np.array([[0.9, 0.1, 0.0]], np.float32)
    plain = float(np.asarray(margin_loss(3, scale=10, margin=0.0)(np.array([0]), cosines))[0])
    margined = float(np.asarray(margin_loss(3, scale=10, margin=0.35)(np.array([0]), cosines))[0])
    assert 0 < plain < margined


def test_fit_head_separates_close_and_far_pairs():
    from training.identity.classifier import fit_head

    rng = np.random.default_rng(0)
    close = np.abs(rng.normal(0, 0.02, (200, 8)))
    far = np.abs(rng.normal(0, 0.2, (200, 8)))
    kernel, bias = fit_head(np.vstack([close, far]), np.r_[np.ones(200), np.zeros(200)], steps=300)
    assert kernel.shape == (8, 1) and bias.shape == (1,)
    logits = np.vstack([close, far]) @ kernel + bias
    assert (logits[:200] > 0).mean() > 0.9 and (logits[200:] < 0).mean() > 0.9


def test_augment_face_keeps_shape_and_range():
    import tensorflow as tf

    from training.identity.classifier import augment_face

    image = tf.random.uniform((100, 100, 3))
    out = augment_face(image, tf)
    assert tuple(out.shape) == (100, 100, 3)
    assert float(tf.reduce_min(out)) >= 0.0 and float(tf.reduce_max(out)) <= 1.0


def test_compact_architecture_is_a_siamese_with_fast_path():
    from faceapp.keras.networks import ARCHITECTURES, make_siamese_model, siamese_parts

    assert {"koch", "compact"} <= set(ARCHITECTURES)
    model = make_siamese_model("compact")
    embedding, kernel, bias = siamese_parts(model)
    vectors = np.asarray(
        embedding(np.random.rand(2, 100, 100, 3).astype(np.float32), training=False)
    )
    assert vectors.shape == (2, 128) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    assert kernel.shape == (128, 1)


def test_identity_pretrain_command_end_to_end(lfw, tmp_path):
    """A few steps of the real command on 8 LFW people; the model loads and scores pairs."""
    from faceapp.keras.networks import load_model, siamese_parts
    from faceapp.models.metadata import read_metadata
    from training import recipes

    tree = tmp_path / "tree"
    link_identity_tree(lfw, tree, people=8, images=3)
    # a calibration owner (the most photos) and single-photo strangers for the threshold
    owner = lfw / "Colin_Powell"
    (tree / owner.name).mkdir()
    for image in sorted(owner.glob("*.jpg"))[:6]:
        (tree / owner.name / image.name).symlink_to(image)
    singles = [p for p in sorted(lfw.iterdir()) if len(list(p.glob("*.jpg"))) == 1][:3]
    for person in singles:
        (tree / person.name).mkdir()
        (tree / person.name / f"{person.name}_0001.jpg").symlink_to(
            person / f"{person.name}_0001.jpg"
        )
    out = tmp_path / "root" / "models" / "m.keras"
    recipes.main(
        [
            "identity-pretrain",
            "--tree",
            str(tree),
            "--data-root",
            str(tmp_path / "root"),
            "--architecture",
            "tiny",
            "--epochs",
            "1",
            "--steps-per-epoch",
            "2",
            "--batch-size",
            "4",
            "--head-pairs",
            "16",
            "--head-fraction",
            "0.25",
            "--calibration-owners",
            "1",
            "--calibration-enroll",
            "3",
            "--calibration-impostors",
            "2",
            "--crop",
            "none",
            "--output",
            str(out),
            "--verbose",
            "0",
        ]
    )
    model = load_model(out)
    metadata = read_metadata(out)
    assert metadata["training"]["recipe"] == "identity-pretrain"
    assert metadata["training"]["calibration_owners"] == ["Colin_Powell"]
    assert metadata["data"]["class_people"] + metadata["data"]["head_people"] == 8 + 1  # 3 taken
    calibration = metadata["metrics"]["calibration"]  # (1.0 always keeps strangers out)
    assert metadata["detection_threshold"] == calibration["detection_threshold"]
    assert calibration["genuine_probes"] == 3 and calibration["impostor_decisions"] == 2
    assert 0.0 <= metadata["detection_threshold"] <= 1.0
    embedding, kernel, _ = siamese_parts(model)
    assert np.all(kernel == kernel[0, 0])  # the tied head
    assert any(layer.name == "face_plus_mirror" for layer in embedding.layers)
    assert (tmp_path / "root" / "cache" / "tree-none.npz").is_file()
    pair = [np.random.rand(1, 100, 100, 3).astype(np.float32)] * 2
    assert np.asarray(model(pair)).shape == (1, 1)
    # refuses to overwrite an existing model (one error line, non-zero exit status)
    assert (
        recipes.main(
            [
                "identity-pretrain",
                "--tree",
                str(tree),
                "--output",
                str(out),
                "--data-root",
                str(tmp_path / "root"),
            ]
        )
        != 0
    )


def test_tied_head_has_one_weight_and_separates_pairs():
    from training.identity.classifier import fit_head

    rng = np.random.default_rng(0)
    close = np.abs(rng.normal(0, 0.02, (200, 8)))
    far = np.abs(rng.normal(0, 0.2, (200, 8)))
    kernel, bias = fit_head(
        np.vstack([close, far]), np.r_[np.ones(200), np.zeros(200)], steps=300, head="tied"
    )
    assert kernel.shape == (8, 1) and np.all(kernel == kernel[0, 0]) and kernel[0, 0] < 0
    logits = np.vstack([close, far]) @ kernel + bias
    assert (logits[:200] > 0).mean() > 0.9 and (logits[200:] < 0).mean() > 0.9


def test_calibration_holds_out_the_biggest_people_and_single_photo_strangers():
    from training.identity.calibration import hold_out

    people = fake_people({f"P{k}": (k % 4) + 1 for k in range(40)} | {"Big": 60, "Bigger": 80})
    calibration, rest = hold_out(people, owners=1, impostors=5, enroll=50, seed=3)
    (scenario,) = calibration.scenarios
    assert scenario.owner == "Bigger" and len(scenario.verification) == 50
    assert len(scenario.genuine) == 30 and not set(scenario.verification) & set(scenario.genuine)
    strangers = {p.parent.name for p in scenario.impostors}
    assert len(strangers) == 5 and all(len(people[n]) == 1 for n in strangers)
    assert not (strangers | {"Bigger"}) & set(rest) and "Big" in rest
    assert len(rest) == len(people) - 6
    again, _ = hold_out(people, owners=1, impostors=5, enroll=50, seed=3)
    assert again.scenarios == calibration.scenarios  # deterministic
    assert hold_out(people, owners=0, impostors=5)[0] is None
    assert hold_out(fake_people({"A": 3, "B": 1}), owners=1, impostors=1)[0] is None  # too few


def test_calibrated_threshold_is_the_most_lenient_within_the_false_accept_bound():
    from training.evaluation.owner import OwnerScenario
    from training.identity.calibration import Calibration, detection_threshold

    class Scores:  # genuine probes score 0.8 against the gallery, strangers 0.1-0.6
        def has(self, path):
            return True

        def against(self, probe, gallery):
            value = 0.8 if probe.startswith("g") else float(probe[1:]) / 10
            return np.full(len(gallery), value)

    impostors = [f"i{k}" for k in range(1, 7)]  # 0.1 ... 0.6
    calibration = Calibration([OwnerScenario("o", ["v1", "v2"], ["g1", "g2"], impostors)])
    chosen = detection_threshold(calibration, Scores(), verification=0.5, max_far=0.0)
    assert chosen["detection_threshold"] == 0.6 and chosen["far"] == 0 and chosen["frr"] == 0
    lenient = detection_threshold(calibration, Scores(), verification=0.5, max_far=0.2)
    assert lenient["detection_threshold"] == 0.5 and lenient["far"] == pytest.approx(1 / 6)


def test_mirror_averaged_embedding_is_mirror_invariant_and_saves(tmp_path):
    from faceapp.keras.networks import (
        load_model,
        make_embedding,
        make_siamese_model,
        mirror_averaged,
        save_model,
        siamese_parts,
    )

    embedding = mirror_averaged(make_embedding("compact"))
    faces = np.random.default_rng(0).random((2, 100, 100, 3), np.float32)
    vectors = np.asarray(embedding(faces, training=False))
    mirrored = np.asarray(embedding(faces[:, :, ::-1].copy(), training=False))
    assert np.allclose(vectors, mirrored, atol=1e-5)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    assert not np.allclose(vectors[0], vectors[1])
    path = save_model(make_siamese_model(embedding=embedding), tmp_path / "m.keras")
    loaded, kernel, _ = siamese_parts(load_model(path))  # safe mode: the layers are registered
    assert np.array_equal(np.asarray(loaded(faces, training=False)), vectors)
    assert kernel.shape == (128, 1)


def test_identity_pretrain_members_sit_side_by_side_and_see_their_views(lfw, tmp_path):
    from faceapp.keras.networks import load_model, siamese_parts
    from faceapp.models.metadata import read_metadata
    from training import recipes

    tree = tmp_path / "tree"
    link_identity_tree(lfw, tree, people=6, images=3)
    root = tmp_path / "root"
    out = root / "models" / "m.keras"
    assert (
        recipes.main(
            [
                "identity-pretrain",
                "--tree",
                str(tree),
                "--data-root",
                str(root),
                "--architecture",
                "tiny",
                "--epochs",
                "1",
                "--steps-per-epoch",
                "2",
                "--batch-size",
                "4",
                "--head-pairs",
                "16",
                "--head-fraction",
                "0.34",
                "--members",
                "2",
                "--member-views",
                "full,inner",
                "--crop",
                "none",
                "--output",
                str(out),
                "--verbose",
                "0",
            ]
        )
        == 0
    )
    metadata = read_metadata(out)
    assert metadata["members"] == 2
    assert metadata["training"]["member_views"] == ["full", "inner"]
    embedding, _, _ = siamese_parts(load_model(out))
    (ensemble,) = [layer for layer in embedding.layers if layer.name == "members"]
    member_0, member_1 = [layer for layer in ensemble.layers if layer.name.startswith("member_")]
    faces = np.random.default_rng(1).random((2, 100, 100, 3), np.float32)
    first, second = np.asarray(member_0(faces)), np.asarray(member_1(faces))
    joined = np.concatenate([first, second], axis=1)
    assert np.allclose(
        np.asarray(ensemble(faces)),
        joined / np.linalg.norm(joined, axis=1, keepdims=True),
        atol=1e-5,
    )
    # the inner member sees only the central 72x72 square; the full one sees the border too
    bordered = faces.copy()
    bordered[:, :10] = 0.0
    assert np.allclose(np.asarray(member_1(bordered)), second, atol=1e-6)
    assert not np.allclose(np.asarray(member_0(bordered)), first, atol=1e-3)
    assert not list((root / "checkpoints").rglob("member-*.npz"))  # cleaned up once saved


def test_identity_pretrain_refuses_an_unknown_member_view(tmp_path, capsys):
    from training import recipes

    code = recipes.main(
        [
            "identity-pretrain",
            "--tree",
            str(tmp_path),
            "--member-views",
            "full,eyes",
            "--data-root",
            str(tmp_path / "root"),
        ]
    )
    assert code != 0
    assert "--member-views: unknown view 'eyes'" in capsys.readouterr().err
