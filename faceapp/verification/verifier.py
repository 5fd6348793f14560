"""Verify a face against the enrolled verification images: the library behind the window's
worker and ``python -m faceapp.verify``.

    model = open_model(data_root)                      # --model > trained > shipped
    verifier = Verifier(model, data_root)
    decision, picture = verifier.verify_frame(frame)   # faceapp.verification.rule.Decision

One verification costs one face search (unless the caller already found the face), one
embedding and a small matrix product against the gallery's cached embeddings
(:mod:`faceapp.verification.gallery`). No TensorFlow on the default int8 runtime.
"""

from __future__ import annotations

import numpy as np

from faceapp.errors import FaceappError
from faceapp.models import DEFAULT_RUNTIME
from faceapp.models.runtime import RunnableModel, load_model
from faceapp.paths import DataRoot
from faceapp.verification.gallery import Gallery
from faceapp.verification.rule import Decision, Thresholds, decide
from faceapp.vision.crops import cut_face
from faceapp.vision.finder import Face
from faceapp.vision.geometry import FacePicture
from faceapp.vision.imaging import preprocess


def open_model(
    root: DataRoot, flag: str | None = None, runtime: str = DEFAULT_RUNTIME
) -> RunnableModel:
    """The model that runs (``--model`` > newest trained > shipped), loaded for ``runtime``."""
    from faceapp.models.files import choose_model

    return load_model(choose_model(root, flag), runtime, root.runtime_cache)


class Verifier:
    """A loaded model, the thresholds, and the gallery of verification images."""

    def __init__(
        self,
        model: RunnableModel,
        root: DataRoot,
        thresholds: Thresholds | None = None,
        on_warning=None,
    ):
        """``thresholds``: None takes them from the model's metadata (else 0.5 / 0.5)."""
        self.model = model
        self.root = root
        self.thresholds = thresholds or Thresholds.resolve(metadata=model.metadata.values)
        self.gallery = Gallery(
            root.verification_images, model, root.gallery_cache, on_warning=on_warning
        )

    def embed(self, picture: FacePicture) -> np.ndarray:
        return self.model.embed(preprocess(picture.image)[None])[0]

    def scores(self, picture: FacePicture) -> np.ndarray:
        """P(same person) of the face against every verification image."""
        gallery = self.gallery.vectors()
        if len(gallery) == 0:
            raise FaceappError(
                f"no verification images in {self.root.verification_images} "
                "(enrol some: press 'e' in the app, or python -m faceapp.enrol)"
            )
        return self.model.head.scores(self.embed(picture), gallery)

    def verify_picture(self, picture: FacePicture) -> Decision:
        return decide(self.scores(picture), self.thresholds)

    def verify_frame(
        self, frame_bgr: np.ndarray, face: Face | None = None, searched: bool = False
    ) -> tuple[Decision, FacePicture]:
        """The decision for the face in a frame, and the face as it was cut.

        ``face``/``searched``: the face already found in this frame (see
        :func:`faceapp.vision.crops.cut_face`)."""
        picture = cut_face(frame_bgr, self.model.crop, face, searched)
        return self.verify_picture(picture), picture
