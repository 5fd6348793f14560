"""faceapp: face verification with a Siamese network, on the CPU, offline.

    import faceapp
    verifier = faceapp.Verifier.open()        # the model that runs, and your enrolled faces
    print(verifier.verify("photo.jpg"))       # Verified: 5/5 matches (100%), scores ...

The public API, in one import (each name loads its module on first use, so ``import faceapp``
stays cheap and imports neither TensorFlow nor Kivy):

* :class:`Verifier` — ``Verifier.open(data_root=None, model=None, gallery=None)``, then
  ``verify(image) -> Decision`` for a path, encoded bytes or a BGR array;
* :func:`enrol` — enrol the faces of photos, folders or videos into a data root;
* :func:`find_faces` — every face in an image, largest first, with its 468 landmarks;
* :class:`Decision`, :class:`Thresholds`, :class:`Face`, :class:`DataRoot`,
  :class:`FaceappError` — the types those return or take.

The rooms behind it (docs/architecture.md): ``faceapp.vision`` (images, face search,
alignment), ``faceapp.models`` (model files and the LiteRT run time),
``faceapp.verification`` (gallery, rule, verifier, enrolment), ``faceapp.liveness``,
``faceapp.app`` (the window), ``faceapp.keras`` (training's networks: the only TensorFlow).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.3.0"

# name -> the module that defines it
_PUBLIC = {
    "Verifier": "faceapp.verification.verifier",
    "Decision": "faceapp.verification.rule",
    "Thresholds": "faceapp.verification.rule",
    "enrol": "faceapp.verification.enrolment",
    "find_faces": "faceapp.vision.finder",
    "Face": "faceapp.vision.finder",
    "DataRoot": "faceapp.paths",
    "FaceappError": "faceapp.errors",
}
__all__ = [
    "DataRoot",
    "Decision",
    "Face",
    "FaceappError",
    "Thresholds",
    "Verifier",
    "__version__",
    "enrol",
    "find_faces",
]

if TYPE_CHECKING:  # for type checkers and editors; at run time __getattr__ loads on demand
    from faceapp.errors import FaceappError
    from faceapp.paths import DataRoot
    from faceapp.verification.enrolment import enrol
    from faceapp.verification.rule import Decision, Thresholds
    from faceapp.verification.verifier import Verifier
    from faceapp.vision.finder import Face, find_faces


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'faceapp' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
