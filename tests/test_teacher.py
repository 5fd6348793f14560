"""The dlib teacher (training only): real embeddings of real photos, cached, and distilled."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import link_identity_tree

from faceapp.paths import DataRoot

pytest.importorskip(
    "dlib",
    reason="the dlib teacher extra is not installed (pip install -r requirements-teacher.txt)",
)


def test_teacher_tells_people_apart_on_real_photos(lfw):
    """Same person's photos are closer than two people's: the teacher is worth distilling."""
    from training.identity.teacher import teacher_embedding

    powell = [
        teacher_embedding(lfw / "Colin_Powell" / f"Colin_Powell_{i:04d}.jpg")[0] for i in (1, 2, 3)
    ]
    blair = teacher_embedding(lfw / "Tony_Blair" / "Tony_Blair_0001.jpg")[0]
    assert powell[0].shape == (128,)
    same = [np.linalg.norm(powell[0] - powell[k]) for k in (1, 2)]
    different = np.linalg.norm(powell[0] - blair)
    assert max(same) < 0.6 < different  # dlib's published threshold


def test_teacher_table_caches_and_skips_unreadable(lfw, tmp_path):
    from training.identity.teacher import teacher_table

    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    paths = [lfw / "Colin_Powell" / "Colin_Powell_0001.jpg", bad]
    cache = tmp_path / "cache" / "teacher.npz"
    table = teacher_table(paths, cache, workers=1, verbose=False)
    assert list(table) == [paths[0].resolve()]
    assert cache.is_file()
    again = teacher_table(paths, cache, workers=1, verbose=False)  # from the cache
    assert np.array_equal(again[paths[0].resolve()], table[paths[0].resolve()])


def test_identity_pretrain_with_teacher_end_to_end(lfw, tmp_path):
    """A few steps of the recipe with the teacher's loss; the teacher cache is written and a
    mismatched embedding size is one clear error (exit status 2)."""
    from faceapp.keras.networks import load_model, siamese_parts
    from faceapp.models.metadata import read_metadata
    from training import recipes

    tree = tmp_path / "tree"
    link_identity_tree(lfw, tree, people=8, images=3)
    (tree / "Tony_Blair").mkdir()  # one single-image person: taught by the teacher only
    (tree / "Tony_Blair" / "Tony_Blair_0001.jpg").symlink_to(
        lfw / "Tony_Blair" / "Tony_Blair_0001.jpg"
    )
    root = tmp_path / "root"
    out = root / "models" / "m.keras"
    common = [
        "identity-pretrain",
        "--tree",
        str(tree),
        "--data-root",
        str(root),
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
        "--crop",
        "none",
        "--teacher",
        "dlib",
        "--verbose",
        "0",
    ]
    assert (
        recipes.main(
            common + ["--architecture", "compact", "--teacher-singles", "--output", str(out)]
        )
        == 0
    )
    metadata = read_metadata(out)
    assert metadata["training"]["teacher"] == "dlib"
    assert metadata["data"]["teacher_only_images"] == 1
    assert metadata["data"]["class_images"] + 1 == len(
        np.load(root / "cache" / "teacher-dlib-tree.npz")["keys"]
    )
    assert "embedding_loss" in metadata["history"]
    assert (root / "cache" / "teacher-dlib-tree.npz").is_file()
    embedding, _, _ = siamese_parts(load_model(out))
    assert embedding.output.shape[-1] == 128  # the teacher's size, which the loss matched
    # the tiny network's embedding is not 128-d: refused with one line
    assert (
        recipes.main(
            common + ["--architecture", "tiny", "--output", str(root / "models" / "t.keras")]
        )
        == 2
    )


def test_centred_unit_spreads_the_teachers_cone():
    from training.identity.teacher import centred_unit

    rng = np.random.default_rng(0)
    cone = np.ones(128) + 0.1 * rng.standard_normal((50, 128))
    unit = cone / np.linalg.norm(cone, axis=1, keepdims=True)
    assert (unit @ unit.T).min() > 0.8  # raw: everyone looks alike
    spread = centred_unit(cone)
    assert np.allclose(np.linalg.norm(spread, axis=1), 1.0, atol=1e-6)
    assert abs(np.mean(spread @ spread.T - np.eye(50))) < 0.05


def test_teacher_flags_that_cannot_work_are_refused_before_any_data_work(tmp_path, capsys):
    from training import recipes

    missing_tree = tmp_path / "no-such-tree"  # never reached: the flags are checked first
    assert (
        recipes.main(["identity-pretrain", "--tree", str(missing_tree), "--teacher-singles"]) == 2
    )
    assert "--teacher-singles needs --teacher" in capsys.readouterr().err
    assert (
        recipes.main(
            [
                "identity-pretrain",
                "--tree",
                str(missing_tree),
                "--teacher",
                "dlib",
                "--architecture",
                "tiny",
            ]
        )
        == 2
    )
    assert "needs a 128-d embedding" in capsys.readouterr().err


def test_teacher_views_are_aligned_augmented_cached_and_trained_on(faces, tmp_path, capsys):
    """--teacher-views: each photo aligned and varied, each variant embedded by the teacher
    once (cached by photo, so a second run embeds nothing), and a few steps trained on them."""
    from faceapp.models.metadata import read_metadata
    from training import recipes
    from training.identity.views import cache_folder, view_table

    tree = tmp_path / "tree"
    for person in ("Colin_Powell", "Jennifer_Capriati", "Tom_Daschle", "Tiger_Woods"):
        (tree / person).mkdir(parents=True)
        for photo in sorted((faces / person).glob("*.jpg"))[:4]:
            (tree / person / photo.name).symlink_to(photo)
    root = tmp_path / "root"
    out = root / "models" / "v.keras"
    argv = [
        "identity-pretrain",
        "--tree",
        str(tree),
        "--data-root",
        str(root),
        "--output",
        str(out),
        "--epochs",
        "1",
        "--steps-per-epoch",
        "1",
        "--batch-size",
        "4",
        "--head-pairs",
        "8",
        "--head-fraction",
        "0.25",
        "--calibration-owners",
        "0",
        "--teacher",
        "dlib",
        "--teacher-views",
        "2",
        "--crop",
        "aligned",
        "--architecture",
        "compact",
        "--verbose",
        "0",
    ]
    # one held-back person of four gives no different-person pairs: said before any training
    assert recipes.main(argv) == 2
    assert "raise --head-fraction" in capsys.readouterr().err and not out.exists()
    argv[argv.index("--head-fraction") + 1] = "0.5"
    assert recipes.main(argv) == 0
    metadata = read_metadata(out)
    assert metadata["training"]["teacher_views"] == 2 and metadata["crop"] == "aligned"
    folder = cache_folder(DataRoot(root), tree, 2, 0)
    paths = [p for person in tree.iterdir() for p in person.iterdir()]
    kept, pictures, vectors = view_table(paths, folder, 2, 0, verbose=False)
    assert pictures.shape[1:] == (2, 100, 100, 3) and vectors.shape[1:] == (2, 128)
    assert len(kept) >= 12  # the class people's photos, with landmarks
    assert not np.array_equal(pictures[0, 0], pictures[0, 1])  # the second is a variant
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=2), 1, atol=1e-5)
    # cached: asking again embeds nothing (no process pool, no dlib)
    again = view_table(paths, folder, 2, 0, workers=0, verbose=False)
    np.testing.assert_array_equal(again[2], vectors)
