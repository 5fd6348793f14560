"""Training data: list images, split them, draw balanced pairs, feed them to Keras.

The order matters and is the whole point of this module:

1. **List** the sources: the owner's ``anchor/ positive/ negative/`` folders and/or an
   identity tree (``Person_Name/*.jpg``, like LFW).
2. **Split** before anything is paired or shuffled: identity-tree *people* go 70/30 to
   train/validation; the owner's images go 70/30 by image; negatives go by person
   (LFW-style names ``Person_Name_0001.jpg`` tell who), so no person and no image is on
   both sides.
3. **Pair** within each side: half same-person pairs (label 1), half different (label 0),
   drawn with a seeded generator, then shuffled pair by pair.
4. **Load** every image once (the shared :func:`faceapp.vision.imaging.preprocess`, optionally
   after the app's face crop) into an in-memory table; unreadable files are skipped and
   summarised in one warning line.
5. **Feed** ``tf.data``: (index, index, label) -> gather from the table -> optional
   augmentation -> batch -> prefetch (AUTOTUNE). The table is the cache: each image is
   decoded once however many pairs use it.

Everything is deterministic for a given seed, so ``training.evaluate`` can rebuild the
exact validation side from the settings stored in a model's metadata.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from faceapp.errors import FaceappError
from faceapp.paths import DataRoot
from faceapp.vision.crops import CROPS, check_crop
from faceapp.vision.imaging import (
    INPUT_SHAPE,
    is_image_file,
    list_images,
    preprocess,
    read_image,
    summarize_skipped,
)

TREE_HELP = "identity tree: one folder of images per person, like LFW"
MIN_OWNER_IMAGES = 2  # one for each side of the split
MIN_TREE_PEOPLE = 4  # at least two people on each side
_LFW_NAME = re.compile(r"^(?P<person>.+)_\d{4}$")


@dataclass(frozen=True)
class Pair:
    """Two image files and whether they show the same person (1) or not (0)."""

    first: Path
    second: Path
    label: int


@dataclass
class PairSplit:
    """Train and validation pairs, and counts worth recording in the model's metadata."""

    train: list[Pair] = field(default_factory=list)
    validation: list[Pair] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def extend(self, other: PairSplit) -> None:
        self.train += other.train
        self.validation += other.validation
        for key, value in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + value


# --- 1. Listing -----------------------------------------------------------------------


def person_of(path: Path) -> str:
    """Who a flattened file shows: ``Colin_Powell_0001.jpg`` -> ``Colin_Powell``, else its stem."""
    match = _LFW_NAME.match(path.stem)
    return match.group("person") if match else path.stem


def list_owner_folder(folder: Path, minimum: int = MIN_OWNER_IMAGES) -> list[Path]:
    """The images in one owner folder; a clear error when it is missing, empty or too small."""
    if not folder.is_dir():
        raise FaceappError(f"training folder not found: {folder}")
    images = list_images(folder)
    if not images:
        raise FaceappError(f"training folder has no images: {folder}")
    if len(images) < minimum:
        raise FaceappError(
            f"too few images to train in {folder}: {len(images)} (need at least {minimum})"
        )
    return images


def list_tree(
    root: Path, exclude: Iterable[str] = (), max_people: int | None = None
) -> dict[str, list[Path]]:
    """``{person: [images]}`` for every sub-folder of ``root`` with images, minus ``exclude``."""
    root = Path(root)
    if not root.is_dir():
        raise FaceappError(f"identity tree not found: {root}")
    excluded = set(exclude)
    people = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if folder.name in excluded:
            continue
        images = sorted(p for p in folder.iterdir() if is_image_file(p))
        if images:
            people[folder.name] = images
    if max_people is not None:
        people = dict(list(people.items())[:max_people])
    if len(people) < MIN_TREE_PEOPLE:
        raise FaceappError(
            f"too few people to train in identity tree {root}: {len(people)} "
            f"(need at least {MIN_TREE_PEOPLE} folders of images)"
        )
    if not any(len(images) >= 2 for images in people.values()):
        raise FaceappError(f"identity tree {root} has nobody with two or more images")
    return people


def people_in_pairs_file(path: Path, folds: Sequence[int] | None = None) -> set[str]:
    """Everyone named in an LFW pairs file (optionally only in some folds): to hold them out."""
    from training.evaluation.lfw_pairs import read_pairs_file  # small, no TensorFlow

    names: set[str] = set()
    for pair in read_pairs_file(path, folds):
        names.update((pair.first_person, pair.second_person))
    return names


def add_held_out_arguments(parser, example: str = "4-5") -> None:
    """``--exclude-pairs FILE`` and ``--exclude-folds SPEC``, the two flags whose values
    :func:`held_out_people` turns into the people kept out of training."""
    parser.add_argument(
        "--exclude-pairs",
        metavar="FILE",
        help="an LFW pairs file whose people are held out of training entirely (default: none)",
    )
    parser.add_argument(
        "--exclude-folds",
        default="all",
        metavar="SPEC",
        help=f"which folds of --exclude-pairs to hold out, e.g. {example} (default: all)",
    )


def held_out_people(pairs_file: str | Path | None, folds: str | None = "all") -> set[str]:
    """The people to keep out of training: everyone in the ``folds`` (a spec like ``"4-5"``
    or ``"all"``) of the LFW pairs file ``pairs_file``; nobody when there is no file."""
    if not pairs_file:
        return set()
    from training.evaluation.lfw_pairs import parse_folds  # small, no TensorFlow

    return people_in_pairs_file(Path(pairs_file), parse_folds(folds))


# --- 2. Splitting ---------------------------------------------------------------------


def split_keys(keys: Iterable[str], val_fraction: float, seed: int) -> tuple[set[str], set[str]]:
    """Deterministically send ``val_fraction`` of the keys to validation, the rest to train.

    Depends only on the set of keys and the seed (not on listing order). With two or
    more keys, each side gets at least one.
    """
    if not 0.0 < val_fraction < 1.0:
        raise FaceappError(f"--val-fraction must be between 0 and 1, got {val_fraction}")
    ordered = sorted(set(keys))
    order = np.random.default_rng(seed).permutation(len(ordered))
    shuffled = [ordered[i] for i in order]
    n_val = int(round(len(shuffled) * val_fraction))
    if len(shuffled) >= 2:
        n_val = min(max(n_val, 1), len(shuffled) - 1)
    return set(shuffled[n_val:]), set(shuffled[:n_val])


def split_images(images: list[Path], val_fraction: float, seed: int, by_person: bool = False):
    """Split image files by file (or by :func:`person_of` when ``by_person``)."""
    key = person_of if by_person else (lambda p: p.name)
    train_keys, val_keys = split_keys((key(p) for p in images), val_fraction, seed)
    return [p for p in images if key(p) in train_keys], [p for p in images if key(p) in val_keys]


# --- 3. Pairing -----------------------------------------------------------------------


def owner_pairs(
    anchors: list[Path],
    positives: list[Path],
    negatives: list[Path],
    per_anchor: int,
    rng: np.random.Generator,
) -> list[Pair]:
    """Each anchor with ``per_anchor`` random positives (1) and as many negatives (0)."""
    pairs = []
    for anchor in anchors:
        for _ in range(per_anchor):
            pairs.append(Pair(anchor, positives[rng.integers(len(positives))], 1))
            pairs.append(Pair(anchor, negatives[rng.integers(len(negatives))], 0))
    return pairs


def tree_pairs(people: dict[str, list[Path]], count: int, rng: np.random.Generator) -> list[Pair]:
    """``count`` pairs from an identity tree, half same-person and half different-person.

    Same-person pairs pick a person uniformly among those with two or more images, then
    two different images; different-person pairs pick two different people uniformly.
    """
    names = sorted(people)
    repeat = [n for n in names if len(people[n]) >= 2]
    if not repeat or len(names) < 2:
        return []
    pairs = []
    for _ in range(count // 2):
        images = people[repeat[rng.integers(len(repeat))]]
        i, j = rng.choice(len(images), size=2, replace=False)
        pairs.append(Pair(images[i], images[j], 1))
        a, b = rng.choice(len(names), size=2, replace=False)
        first, second = people[names[a]], people[names[b]]
        pairs.append(Pair(first[rng.integers(len(first))], second[rng.integers(len(second))], 0))
    return pairs


def shuffle_pairs(pairs: list[Pair], seed: int) -> list[Pair]:
    """The pairs in a seeded random order (pair by pair, labels stay with their images)."""
    order = np.random.default_rng(seed).permutation(len(pairs))
    return [pairs[i] for i in order]


def owner_split(
    root: DataRoot,
    val_fraction: float,
    seed: int,
    per_anchor: int = 1,
    people_sides: tuple[set[str], set[str]] | None = None,
    exclude: Iterable[str] = (),
) -> PairSplit:
    """Split the owner's folders (anchors/positives by image, negatives by person), then pair.

    ``people_sides`` = ``(train people, validation people)`` of an identity tree trained on
    in the same run: a negative showing one of them goes to that person's side, so nobody
    is on both sides of the combined split. Negatives of ``exclude`` people are left out.
    """
    anchors = list_owner_folder(root.anchor)
    positives = list_owner_folder(root.positive)
    negatives = list_owner_folder(root.negative)
    a_train, a_val = split_images(anchors, val_fraction, seed)
    p_train, p_val = split_images(positives, val_fraction, seed + 1)
    n_train, n_val = split_images(negatives, val_fraction, seed + 2, by_person=True)
    if people_sides is not None or exclude:
        tree_train, tree_val = people_sides or (set(), set())
        excluded, own_train = set(exclude), set(n_train)
        kept = [p for p in negatives if person_of(p) not in excluded]
        in_train = {
            p: person_of(p) in tree_train or (person_of(p) not in tree_val and p in own_train)
            for p in kept
        }
        n_train = [p for p in kept if in_train[p]]
        n_val = [p for p in kept if not in_train[p]]
    if not n_val or not n_train:
        raise FaceappError(
            f"too few different people in {root.negative} to split: need two or more"
        )
    rng = np.random.default_rng(seed)
    return PairSplit(
        train=owner_pairs(a_train, p_train, n_train, per_anchor, rng),
        validation=owner_pairs(a_val, p_val, n_val, per_anchor, rng),
        counts={
            "anchor_images": len(anchors),
            "positive_images": len(positives),
            "negative_images": len(negatives),
        },
    )


def tree_split(
    people: dict[str, list[Path]], pair_count: int, val_fraction: float, seed: int
) -> PairSplit:
    """Split an identity tree by person, then draw ``pair_count`` pairs in proportion."""
    train_names, val_names = split_keys(people, val_fraction, seed)
    rng = np.random.default_rng(seed + 3)
    n_val = int(round(pair_count * val_fraction))
    train = tree_pairs({n: people[n] for n in train_names}, pair_count - n_val, rng)
    validation = tree_pairs({n: people[n] for n in val_names}, n_val, rng)
    if not train or not validation:
        raise FaceappError(
            "too few people with two or more images to pair on both sides of the split "
            f"({len(people)} people); add people or lower --val-fraction"
        )
    return PairSplit(
        train=train,
        validation=validation,
        counts={
            "tree_people": len(people),
            "tree_images": sum(len(v) for v in people.values()),
            "train_people": len(train_names),
            "validation_people": len(val_names),
        },
    )


def build_split(settings: dict, root: DataRoot) -> PairSplit:
    """Split then pair every source named in a run's ``settings`` (training.run; rebuilt
    from a model's metadata by training.evaluate)."""
    split = PairSplit()
    seed, fraction = settings["seed"], settings["val_fraction"]
    exclude, people, sides = set(), None, None
    if settings["source"] in ("tree", "both"):
        exclude = held_out_people(settings.get("exclude_pairs"), settings.get("exclude_folds"))
        people = list_tree(Path(settings["tree"]), exclude, settings.get("max_people"))
        # the tree's people split (as tree_split makes it): owner negatives follow it
        sides = split_keys(people, fraction, seed)
    if settings["source"] in ("owner", "both"):
        split.extend(
            owner_split(
                root,
                fraction,
                seed,
                settings["pairs_per_anchor"],
                people_sides=sides,
                exclude=exclude,
            )
        )
    if people is not None:
        split.extend(tree_split(people, settings["tree_pairs"], fraction, seed))
        split.counts["excluded_people"] = len(exclude)
    split.train = shuffle_pairs(split.train, seed)
    split.validation = shuffle_pairs(split.validation, seed + 1)
    return split


# --- 4. Loading images once -----------------------------------------------------------


def load_face(path: Path, crop: str = "none", size: int = INPUT_SHAPE[0]) -> np.ndarray:
    """One image as the network's input, its face cut the way the app cuts it for a model
    trained with ``crop`` (:mod:`faceapp.vision.crops`), at the network's input ``size``."""
    from faceapp.vision.crops import cut_face

    return preprocess(cut_face(read_image(path), crop, size=size).image, size)


@dataclass
class ImageTable:
    """Every image used by some pair, decoded once: uint8 (N, 100, 100, 3) RGB."""

    images: np.ndarray
    index: dict[Path, int]
    skipped: list[tuple[object, str]]

    def indices(self, pairs: list[Pair]) -> np.ndarray:
        """``(n, 3)`` int32 rows ``(first, second, label)``; pairs with a skipped image drop out."""
        rows = [
            (self.index[p.first], self.index[p.second], p.label)
            for p in pairs
            if p.first in self.index and p.second in self.index
        ]
        return np.asarray(rows, dtype=np.int32).reshape(-1, 3)


def load_table(
    paths: Iterable[Path],
    crop: str = "none",
    workers: int = 2,
    warn: bool = True,
    size: int = INPUT_SHAPE[0],
) -> ImageTable:
    """Decode each distinct path once (a small thread pool: OpenCV releases the GIL).

    With ``crop="haar"`` the images are read one at a time: OpenCV's Haar cascade gave
    different boxes when used from two threads (measured).

    Values are stored as uint8 (``preprocess`` gives exact multiples of 1/255, so
    ``table / 255`` restores them bit for bit) to keep memory four times smaller.
    Skipped images are reported in one warning line on stderr.
    """
    try:
        crop = check_crop(crop)
    except FaceappError:
        raise FaceappError(f"--crop must be one of {', '.join(CROPS)}, got {crop!r}") from None
    unique = sorted(set(paths))

    def load(path: Path):
        try:
            return np.rint(load_face(path, crop, size) * 255.0).astype(np.uint8), None
        except FaceappError as error:
            return None, str(error)

    if crop == "haar":
        workers = 1
    with ThreadPoolExecutor(max(1, workers)) as pool:
        results = list(pool.map(load, unique))
    images: list[np.ndarray] = []
    index: dict[Path, int] = {}
    skipped: list[tuple[object, str]] = []
    for path, (image, problem) in zip(unique, results):
        if image is None:
            skipped.append((path, problem))
        else:
            index[path] = len(images)
            images.append(image)
    line = summarize_skipped(skipped)
    if line and warn:
        print(line, file=sys.stderr)
    array = np.stack(images) if images else np.zeros((0, *INPUT_SHAPE), np.uint8)
    return ImageTable(array, index, skipped)


def pair_paths(pairs: Iterable[Pair]) -> set[Path]:
    return {path for pair in pairs for path in (pair.first, pair.second)}


# --- 5. tf.data -------------------------------------------------------------------------


def augment_image(image, tf):
    """The original tutorial's augmentation: brightness, contrast, flip, JPEG quality and
    saturation."""
    image = tf.image.random_brightness(image, max_delta=0.02)
    image = tf.image.random_contrast(image, lower=0.6, upper=1.0)
    image = tf.image.random_flip_left_right(image)
    image = tf.image.random_jpeg_quality(image, min_jpeg_quality=90, max_jpeg_quality=100)
    image = tf.image.random_saturation(image, lower=0.9, upper=1.0)
    return tf.clip_by_value(image, 0.0, 1.0)


def make_dataset(
    rows: np.ndarray,
    table: np.ndarray,
    batch_size: int,
    shuffle: bool = False,
    augment: bool = False,
    seed: int = 0,
):
    """A batched ``tf.data.Dataset`` of ``((first, second), label)`` from index rows."""
    import tensorflow as tf

    images = tf.constant(table)
    dataset = tf.data.Dataset.from_tensor_slices(
        (rows[:, 0], rows[:, 1], rows[:, 2].astype(np.float32))
    )
    if shuffle:
        dataset = dataset.shuffle(len(rows), seed=seed, reshuffle_each_iteration=True)

    def lookup(i, j, label):
        first = tf.cast(tf.gather(images, i), tf.float32) / 255.0
        second = tf.cast(tf.gather(images, j), tf.float32) / 255.0
        if augment:
            first, second = augment_image(first, tf), augment_image(second, tf)
        return (first, second), label

    dataset = dataset.map(lookup, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
