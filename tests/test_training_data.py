"""Listing, splitting and pairing training data (no TensorFlow needed, fast)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from faceapp.errors import FaceappError
from faceapp.paths import DataRoot
from faceapp.vision.imaging import preprocess
from training.pairs import data


def write_face(path: Path, value: int = 128) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = np.full((60, 60, 3), value, np.uint8)
    cv2.circle(image, (30, 30), 10 + value % 15, (value // 2, 255 - value, value), -1)
    cv2.imwrite(str(path), image)
    return path


def owner_root(tmp_path: Path, anchors=10, positives=10, negative_people=6) -> DataRoot:
    root = DataRoot(tmp_path / "root")
    for k in range(anchors):
        write_face(root.anchor / f"a{k:02d}.jpg", 10 + k)
    for k in range(positives):
        write_face(root.positive / f"p{k:02d}.jpg", 60 + k)
    for person in range(negative_people):
        for k in range(1, 4):
            write_face(root.negative / f"Person_{person}_{k:04d}.jpg", 120 + person * 5 + k)
    return root


def test_person_of_reads_lfw_style_names():
    assert data.person_of(Path("Colin_Powell_0001.jpg")) == "Colin_Powell"
    assert data.person_of(Path("selfie.jpg")) == "selfie"


def test_split_keys_is_deterministic_and_order_free():
    keys = [f"k{i}" for i in range(20)]
    train, val = data.split_keys(keys, 0.3, seed=7)
    assert (train, val) == data.split_keys(list(reversed(keys)), 0.3, seed=7)
    assert not train & val and train | val == set(keys)
    assert len(val) == 6
    assert data.split_keys(keys, 0.3, seed=8) != (train, val)


def test_tree_split_has_no_identity_or_image_leak(lfw):
    people = data.list_tree(lfw, max_people=400)
    split = data.tree_split(people, pair_count=2000, val_fraction=0.3, seed=1)
    train_people = {p.parent.name for pair in split.train for p in (pair.first, pair.second)}
    val_people = {p.parent.name for pair in split.validation for p in (pair.first, pair.second)}
    assert train_people and val_people and not train_people & val_people
    assert not data.pair_paths(split.train) & data.pair_paths(split.validation)
    for pairs in (split.train, split.validation):
        labels = [pair.label for pair in pairs]
        assert labels.count(1) == labels.count(0)  # balanced
        for pair in pairs:  # labels tell the truth
            assert pair.label == (pair.first.parent == pair.second.parent)
            assert pair.first != pair.second
    assert len(split.train) == 1400 and len(split.validation) == 600


def test_owner_split_keeps_images_and_negative_people_apart(tmp_path):
    root = owner_root(tmp_path)
    split = data.owner_split(root, val_fraction=0.3, seed=3, per_anchor=2)
    assert not data.pair_paths(split.train) & data.pair_paths(split.validation)
    negative_people = [
        {data.person_of(p.second) for p in pairs if p.label == 0}
        for pairs in (split.train, split.validation)
    ]
    assert negative_people[0] and negative_people[1] and not negative_people[0] & negative_people[1]
    assert [p.label for p in split.train].count(1) == [p.label for p in split.train].count(0)
    assert len(split.train) == 7 * 2 * 2 and len(split.validation) == 3 * 2 * 2
    assert split.counts == {"anchor_images": 10, "positive_images": 10, "negative_images": 18}


def test_shuffle_keeps_each_label_with_its_pair(tmp_path):
    split = data.owner_split(owner_root(tmp_path), 0.3, seed=0)
    shuffled = data.shuffle_pairs(split.train, seed=5)
    assert sorted(map(str, shuffled)) == sorted(map(str, split.train))
    assert shuffled != split.train
    assert shuffled == data.shuffle_pairs(split.train, seed=5)


@pytest.mark.parametrize("folder", ["anchor", "positive", "negative"])
def test_missing_or_empty_owner_folder_is_named(tmp_path, folder):
    root = owner_root(tmp_path)
    for path in getattr(root, folder).iterdir():
        path.unlink()
    with pytest.raises(FaceappError, match=f"no images: .*{folder}"):
        data.owner_split(root, 0.3, seed=0)
    getattr(root, folder).rmdir()
    with pytest.raises(FaceappError, match=f"not found: .*{folder}"):
        data.owner_split(root, 0.3, seed=0)


def test_too_few_images_is_a_clear_error(tmp_path):
    root = owner_root(tmp_path, anchors=1)
    with pytest.raises(FaceappError, match="too few images to train in .*anchor: 1"):
        data.owner_split(root, 0.3, seed=0)


def test_tree_too_small_is_a_clear_error(tmp_path):
    for person in ("A", "B"):
        write_face(tmp_path / "tree" / person / f"{person}_0001.jpg")
    with pytest.raises(FaceappError, match="too few people"):
        data.list_tree(tmp_path / "tree")
    with pytest.raises(FaceappError, match="identity tree not found"):
        data.list_tree(tmp_path / "nowhere")


def test_exclude_people_of_pairs_folds(lfw):
    fold_8 = data.people_in_pairs_file(lfw / "pairs.txt", [8])
    # an independent reading of the file: 8 folds of 300 same + 300 different lines; a same
    # line names one person (name n1 n2), a different line two (name1 n1 name2 n2)
    lines = (lfw / "pairs.txt").read_text().splitlines()[1:]
    expected = {
        name
        for line in lines[7 * 600 : 8 * 600]
        for name in line.split("\t")[0 :: 2 if len(line.split("\t")) == 4 else 3]
    }
    assert fold_8 == expected and len(expected) > 300
    people = data.list_tree(lfw, exclude=fold_8)
    assert not set(people) & fold_8
    assert len(people) >= 20 and set(people) <= {p.name for p in lfw.iterdir() if p.is_dir()}


def test_corrupt_images_are_skipped_with_one_warning(tmp_path, capsys, face_path):
    good = [write_face(tmp_path / f"good{k}.jpg", 40 * k) for k in range(3)]
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(good[0].read_bytes()[:200])
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    table = data.load_table(good + [truncated, empty, face_path])
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "skipped 2 unreadable images" in err
    assert table.images.shape == (4, 100, 100, 3) and table.images.dtype == np.uint8
    # the table holds exactly the shared preprocessing, stored as uint8
    restored = table.images[table.index[face_path]].astype(np.float32) / np.float32(255)
    np.testing.assert_array_equal(restored, preprocess(face_path))
    pairs = [data.Pair(good[0], truncated, 1), data.Pair(good[0], good[1], 0)]
    assert table.indices(pairs).tolist() == [[table.index[good[0]], table.index[good[1]], 0]]


def test_detect_crop_cuts_the_face_like_the_app(face_path):
    whole, cropped = data.load_face(face_path, "none"), data.load_face(face_path, "haar")
    assert cropped.shape == whole.shape == (100, 100, 3)
    assert not np.array_equal(whole, cropped)


def test_detect_crop_is_deterministic_however_many_workers(lfw):
    paths = sorted((lfw / "Tony_Blair").glob("*.jpg"))[:12]
    one = data.load_table(paths, "haar", workers=1).images
    np.testing.assert_array_equal(one, data.load_table(paths, "haar", workers=2).images)


def test_source_both_keeps_each_person_on_one_side_and_held_out_people_out(tmp_path):
    """Owner negatives (LFW-style names) and a tree of the same people, in one run."""
    from training.pairs.data import build_split

    root = owner_root(tmp_path, negative_people=0)
    tree = tmp_path / "tree"
    for person in range(12):
        for k in range(1, 4):
            write_face(tree / f"Person_{person}" / f"Person_{person}_{k:04d}.jpg", 100 + person)
            write_face(root.negative / f"Person_{person}_{k:04d}.jpg", 100 + person)
    pairs_file = tree / "pairs.txt"
    pairs_file.write_text("1\t1\nPerson_11\t1\t2\nPerson_11\t1\tPerson_10\t1\n")
    settings = {
        "source": "both",
        "seed": 5,
        "val_fraction": 0.3,
        "pairs_per_anchor": 3,
        "tree": str(tree),
        "tree_pairs": 200,
        "max_people": None,
        "exclude_pairs": str(pairs_file),
        "exclude_folds": "all",
    }
    split = build_split(settings, root)

    def who(pairs):
        return {
            data.person_of(p)
            for pair in pairs
            for p in (pair.first, pair.second)
            if p.name.startswith("Person_")
        }

    train, val = who(split.train), who(split.validation)
    assert train and val and not train & val
    assert not (train | val) & {"Person_10", "Person_11"}
