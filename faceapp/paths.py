"""The data root: one relocatable folder that holds all of the user's data.

Layout (created on demand, private to the user: folders 0700)::

    <root>/
      anchor/                 owner's captures (training, key ``a``)
      positive/               owner's captures (training, key ``p``)
      negative/               other people's faces (training, see training.import_negatives)
      verification_images/    enrolled faces the app compares against (key ``e``)
      input_image/            the last face that was verified (input_image.jpg)
      models/                 trained models (*.keras) with their metadata (*.json)
      checkpoints/            training checkpoints, for resuming

The root is, in order of precedence: an explicit argument (``--data-root``), the
environment variable ``FACEAPP_DATA_ROOT``, or the default: ``application_data/`` beside
``main.py`` in a source checkout (where ``make run`` runs it), the user's data folder
(``$XDG_DATA_HOME/faceapp``, else ``~/.local/share/faceapp``) for an installed copy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from faceapp.errors import FaceappError

ENV_VAR = "FACEAPP_DATA_ROOT"
CHECKOUT = Path(__file__).resolve().parent.parent  # the folder above the package
PRIVATE_DIR_MODE = 0o700

FOLDERS = (
    "anchor",
    "positive",
    "negative",
    "verification_images",
    "input_image",
    "models",
    "checkpoints",
)


def resolve_root(explicit: str | os.PathLike | None = None) -> Path:
    """The data root: ``explicit`` if given, else ``$FACEAPP_DATA_ROOT``, else the default."""
    if explicit:
        return Path(explicit).expanduser()
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return Path(from_env).expanduser()
    return default_root()


def default_root() -> Path:
    """``application_data/`` of a source checkout (a ``main.py`` and ``pyproject.toml`` above
    the package), else the user's data folder: an installed copy must not write into
    site-packages."""
    if (CHECKOUT / "main.py").is_file() and (CHECKOUT / "pyproject.toml").is_file():
        return CHECKOUT / "application_data"
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).expanduser() / "faceapp"


def make_private_dir(path: str | os.PathLike, tighten: bool = False) -> Path:
    """Create ``path`` (and missing parents) private to the user (0700 on POSIX).

    Folders that already exist keep their mode unless ``tighten`` is set: saving a file
    into ``/tmp`` or a home folder must never change who can read that folder.
    """
    path = Path(path)
    missing = []
    ancestor = path
    while not ancestor.exists() and ancestor != ancestor.parent:
        missing.append(ancestor)
        ancestor = ancestor.parent
    path.mkdir(parents=True, exist_ok=True)
    if os.name == "posix":
        for folder in missing + ([path] if tighten and not missing else []):
            os.chmod(folder, PRIVATE_DIR_MODE)
    return path


@dataclass(frozen=True)
class DataRoot:
    """The folders under one data root. Nothing is created until :meth:`ensure`."""

    root: Path

    @classmethod
    def resolve(cls, explicit: str | os.PathLike | None = None) -> DataRoot:
        return cls(resolve_root(explicit))

    @property
    def anchor(self) -> Path:
        return self.root / "anchor"

    @property
    def positive(self) -> Path:
        return self.root / "positive"

    @property
    def negative(self) -> Path:
        return self.root / "negative"

    @property
    def verification_images(self) -> Path:
        return self.root / "verification_images"

    @property
    def input_image(self) -> Path:
        return self.root / "input_image"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def runtime_cache(self) -> Path:
        """Converted copies of models (:mod:`faceapp.models.runtime`), made on first use."""
        return self.root / "cache" / "runtime"

    @property
    def gallery_cache(self) -> Path:
        """Embeddings of the verification images, one file per model
        (:mod:`faceapp.verification.gallery`)."""
        return self.root / "cache" / "gallery"

    def ensure(self) -> DataRoot:
        """Create the root and every folder of the layout, private to the user; a root that
        cannot be used (a file, a folder without permission) is a one-line error."""
        try:
            make_private_dir(self.root, tighten=True)
            for name in FOLDERS:
                make_private_dir(self.root / name, tighten=True)
        except OSError as error:
            why = (
                "it is a file, not a folder"
                if self.root.exists() and not self.root.is_dir()
                else error.strerror or str(error)
            )
            raise FaceappError(f"cannot use data root {self.root}: {why}") from None
        return self
