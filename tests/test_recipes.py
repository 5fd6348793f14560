"""Identity pre-training recipe (training/identity.py, training/recipes.py), at tiny sizes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import link_identity_tree

from faceapp.errors import FaceappError


def fake_people(counts: dict[str, int]) -> dict[str, list[Path]]:
    return {name: [Path(f"/x/{name}/{name}_{k:04d}.jpg") for k in range(1, n + 1)]
            for name, n in counts.items()}


def test_identity_split_keeps_class_and_head_people_apart():
    from training.identity import identity_split

    people = fake_people({f"P{k}": (k % 5) + 1 for k in range(40)} | {"Big": 120})
    split = identity_split(people, min_images=2, max_images=10, head_fraction=0.2, seed=1)
    assert not set(split.classes) & set(split.head)
    assert all(2 <= len(v) <= 10 for v in split.classes.values())
    assert set(split.classes) | set(split.head) == set(people)  # min_images 2: everyone is used
    singles = {n for n, v in people.items() if len(v) == 1}
    assert singles <= set(split.head)  # single-image people serve as impostors only
    assert split == identity_split(people, 2, 10, 0.2, seed=1)  # deterministic
    with pytest.raises(FaceappError):
        identity_split(fake_people({"A": 1, "B": 1}))


def test_margin_loss_penalises_the_margin():
    from training.identity import margin_loss

    cosines = np.array([[0.9, 0.1, 0.0]], np.float32)
    plain = float(np.asarray(margin_loss(3, scale=10, margin=0.0)(np.array([0]), cosines))[0])
    margined = float(np.asarray(margin_loss(3, scale=10, margin=0.35)(np.array([0]), cosines))[0])
    assert 0 < plain < margined


def test_fit_head_separates_close_and_far_pairs():
    from training.identity import fit_head

    rng = np.random.default_rng(0)
    close = np.abs(rng.normal(0, 0.02, (200, 8)))
    far = np.abs(rng.normal(0, 0.2, (200, 8)))
    kernel, bias = fit_head(np.vstack([close, far]), np.r_[np.ones(200), np.zeros(200)], steps=300)
    assert kernel.shape == (8, 1) and bias.shape == (1,)
    logits = np.vstack([close, far]) @ kernel + bias
    assert (logits[:200] > 0).mean() > 0.9 and (logits[200:] < 0).mean() > 0.9


def test_augment_face_keeps_shape_and_range():
    import tensorflow as tf

    from training.identity import augment_face

    image = tf.random.uniform((100, 100, 3))
    out = augment_face(image, tf)
    assert tuple(out.shape) == (100, 100, 3)
    assert float(tf.reduce_min(out)) >= 0.0 and float(tf.reduce_max(out)) <= 1.0


def test_compact_architecture_is_a_siamese_with_fast_path():
    from faceapp.model import ARCHITECTURES, make_siamese_model, siamese_parts

    assert {"koch", "compact"} <= set(ARCHITECTURES)
    model = make_siamese_model("compact")
    embedding, kernel, bias = siamese_parts(model)
    vectors = np.asarray(embedding(np.random.rand(2, 100, 100, 3).astype(np.float32), training=False))
    assert vectors.shape == (2, 128) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    assert kernel.shape == (128, 1)


def test_identity_pretrain_command_end_to_end(lfw, tmp_path):
    """A few steps of the real command on 8 LFW people; the model loads and scores pairs."""
    from faceapp.metadata import read_metadata
    from faceapp.model import load_model
    from training import recipes

    tree = tmp_path / "tree"
    link_identity_tree(lfw, tree, people=8, images=3)
    out = tmp_path / "root" / "models" / "m.keras"
    recipes.main(["identity-pretrain", "--lfw", str(tree), "--data-root", str(tmp_path / "root"),
                  "--architecture", "tiny", "--epochs", "1", "--steps-per-epoch", "2",
                  "--batch-size", "4", "--head-pairs", "16", "--head-fraction", "0.25",
                  "--crop", "none", "--output", str(out), "--verbose", "0"])
    model = load_model(out)
    metadata = read_metadata(out)
    assert metadata["training"]["recipe"] == "identity-pretrain"
    assert 0.0 <= metadata["detection_threshold"] <= 1.0
    assert (tmp_path / "root" / "cache" / "tree-none.npz").is_file()
    pair = [np.random.rand(1, 100, 100, 3).astype(np.float32)] * 2
    assert np.asarray(model(pair)).shape == (1, 1)
    # refuses to overwrite an existing model (one error line, non-zero exit status)
    assert recipes.main(["identity-pretrain", "--lfw", str(tree), "--output", str(out),
                         "--data-root", str(tmp_path / "root")]) != 0
