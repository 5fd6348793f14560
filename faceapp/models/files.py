"""Which model runs, and where its files are.

The rule, in one place: ``--model FILE`` if given, else the newest model trained under the
data root (``models/``), else the model shipped with faceapp (``faceapp/models/shipped/``), so a
fresh clone verifies faces before anyone has trained anything.

A model is a *stem* with files beside each other::

    siamese-20261202.keras        the Keras model (training, fine-tuning, --runtime keras)
    siamese-20261202.json         its metadata: crop, head, thresholds, how it was trained
    siamese-20261202.int8.tflite  the int8 copy the app runs (LiteRT, no TensorFlow)

The shipped model has no Keras file: only what the app runs, and its model card.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from faceapp.errors import FaceappError
from faceapp.models.metadata import INT8_SUFFIX, int8_path, metadata_path, model_stem
from faceapp.paths import DataRoot

SHIPPED_FOLDER = Path(__file__).resolve().parent / "shipped"
SHIPPED_NAME = "faceapp-dlib-v1"  # the default; every model in SHIPPED_FOLDER can be named
KERAS_SUFFIXES = (".keras", ".h5")
ACCEPTED = "a .keras, .h5, .int8.tflite or .json model file"

ORIGINS = ("given", "chosen", "trained", "shipped")
USE_SHIPPED = "shipped"  # the saved choice that means "the default shipped model"


@dataclass(frozen=True)
class ModelFiles:
    """The files of one model and how it was chosen (``origin``: one of :data:`ORIGINS`;
    ``why``: a note when the choice needs explaining, e.g. a trained model passed over)."""

    stem: Path
    origin: str
    keras: Path | None  # the Keras file, when there is one
    why: str = ""

    @property
    def name(self) -> str:
        return self.stem.name

    @property
    def metadata_path(self) -> Path:
        return metadata_path(self.stem)

    @property
    def int8_path(self) -> Path:
        return int8_path(self.stem)

    @property
    def shipped(self) -> bool:
        return self.stem.parent == SHIPPED_FOLDER

    def describe(self) -> str:
        """How the window and the commands name it, e.g. ``shipped model faceapp-aligned-v1``."""
        if self.shipped:
            return f"shipped model {self.name}"
        file = self.keras.name if self.keras is not None else self.int8_path.name
        return f"{'your model' if self.origin in ('trained', 'chosen') else 'model'} {file}"

    def damaged(self, path: Path, reason: str) -> FaceappError:
        """The one-line error for a missing or damaged file of this model."""
        if self.shipped:
            return FaceappError(
                f"the shipped model file {path} is {reason}; restore it with: "
                f"git checkout -- {_relative(path)}"
            )
        return FaceappError(f"model file {path} is {reason}; train the model again or delete it")


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def shipped_names() -> list[str]:
    """The names of the models shipped with faceapp (e.g. ``faceapp-aligned-v1``)."""
    return sorted(p.name[: -len(".json")] for p in SHIPPED_FOLDER.glob("*.json"))


def files_of(path: str | os.PathLike, origin: str = "given") -> ModelFiles:
    """The model that ``path`` (any of its files, or a shipped model's name) belongs to;
    one-line errors for paths that cannot be a model."""
    path = Path(path).expanduser()
    if not path.exists() and str(path) in shipped_names():
        return replace(shipped_model(str(path)), origin=origin)
    if not path.exists():
        raise FaceappError(f"model file not found: {path}")
    if not path.is_file():
        raise FaceappError(f"model path is not a file: {path}")
    if not (
        path.suffix in KERAS_SUFFIXES or path.suffix == ".json" or path.name.endswith(INT8_SUFFIX)
    ):
        raise FaceappError(f"model file must be {ACCEPTED}: {path}")
    if path.stat().st_size == 0:
        raise FaceappError(f"model file is empty: {path}")
    stem = model_stem(path)
    keras = (
        path
        if path.suffix in KERAS_SUFFIXES
        else next(
            (
                stem.with_name(stem.name + s)
                for s in KERAS_SUFFIXES
                if stem.with_name(stem.name + s).is_file()
            ),
            None,
        )
    )
    return ModelFiles(stem, origin, keras)


def newest_trained(root: DataRoot) -> ModelFiles | None:
    """The most recently written model under ``models/`` (a Keras file or an int8 copy)."""
    folder = root.models
    if not folder.is_dir():
        return None
    candidates = [
        p
        for p in folder.iterdir()
        if (p.suffix in KERAS_SUFFIXES or p.name.endswith(INT8_SUFFIX))
        and p.is_file()
        and not p.name.startswith(".")
    ]
    newest = max(candidates, key=lambda p: p.stat().st_mtime_ns, default=None)
    return files_of(newest, "trained") if newest is not None else None


def shipped_model(name: str = SHIPPED_NAME) -> ModelFiles:
    """A model shipped with faceapp, by default the default one (its metadata must be
    there)."""
    stem = SHIPPED_FOLDER / name
    files = ModelFiles(stem, "shipped", None)
    if not files.metadata_path.is_file():
        raise files.damaged(files.metadata_path, "missing")
    return files


def quality(files: ModelFiles) -> float | None:
    """How well a model separates faces, as measured when it was made: the ROC AUC of the
    pairs it was evaluated on (the LFW folds it held out, else its own validation or head
    pairs); None when nothing was measured or its metadata is unreadable."""
    from faceapp.models.metadata import read_metadata

    try:
        values = read_metadata(files.stem)
    except FaceappError:
        return None
    for path in (
        ("shipped", "evaluation", "lfw_pairs", "roc_auc"),
        ("metrics", "validation", "roc_auc"),
        ("metrics", "head_pairs", "roc_auc"),
    ):
        value: object = values
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, int | float):
            return float(value)
    return None


def choose_model(
    root: DataRoot, flag: str | os.PathLike | None = None, saved: str | None = None
) -> ModelFiles:
    """Which model runs: ``--model``, else the one chosen and saved (``faceapp-config set
    model``: ``shipped``, a shipped model's name or a file), else the newest model trained
    under the data root *if it measured at least as well as the shipped one*, else the
    shipped one — with a note saying which trained model was passed over, and why.

    A quick training run must never silently replace a better model: a model trained for a
    minute separates faces hardly better than chance, and would let strangers in."""
    if flag:
        return files_of(flag, "given")
    if saved:
        if saved == USE_SHIPPED:
            return replace(shipped_model(), origin="chosen")
        return files_of(saved, "chosen")
    shipped = shipped_model()
    trained = newest_trained(root)
    if trained is None:
        return shipped
    ours, theirs = quality(trained), quality(shipped)
    if ours is not None and theirs is not None and ours >= theirs:
        return trained
    measured = f"it measured AUC {ours:.3f} against {theirs:.3f}" if ours else "nothing measured"
    return replace(
        shipped,
        why=f"your newest model {trained.describe().removeprefix('your model ')} is not used "
        f"({measured}); to use it anyway: faceapp-config set model "
        f"{trained.keras or trained.int8_path}",
    )
