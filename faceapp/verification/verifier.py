"""Verify a face against the enrolled faces: the library behind ``faceapp.Verifier``, the
window's worker and ``faceapp-verify``.

    verifier = Verifier.open()                  # --model > trained > shipped; enrolled faces
    decision = verifier.verify("photo.jpg")     # a faceapp.verification.rule.Decision

One verification costs one face search (unless the caller already found the face), one
embedding and a small matrix product against the gallery's cached embeddings
(:mod:`faceapp.verification.gallery`). No TensorFlow on the default int8 runtime.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from faceapp.errors import FaceappError, one_line
from faceapp.models import DEFAULT_RUNTIME
from faceapp.models.runtime import RunnableModel, load_model
from faceapp.paths import DataRoot
from faceapp.verification.gallery import Gallery, MemoryGallery
from faceapp.verification.rule import Decision, Thresholds, decide, face_scores
from faceapp.vision.finder import Face
from faceapp.vision.geometry import FacePicture
from faceapp.vision.imaging import ImageSource, load_bgr
from faceapp.vision.quality import frame_problem

LAST_FACE_FILE = "input_image.jpg"  # the last face verified, under <data root>/input_image/


def open_model(
    root: DataRoot, flag: str | os.PathLike | None = None, runtime: str = DEFAULT_RUNTIME
) -> RunnableModel:
    """The model that runs (:func:`faceapp.models.files.choose_model`: ``--model`` > the one
    saved with ``faceapp-config`` > the newest trained, if as good > shipped), loaded for
    ``runtime``."""
    from faceapp.config import load_config
    from faceapp.models.files import choose_model

    saved = None if flag else load_config(root).model
    return load_model(choose_model(root, flag, saved), runtime, root.runtime_cache)


@dataclass(frozen=True)
class Judgement:
    """One frame of a multi-frame verification: the decision, or why the frame was not
    judged (``problem``: "no face", "too dark", "too blurred"), and the face as it was cut."""

    decision: Decision | None
    problem: str | None
    picture: FacePicture


class Verifier:
    """A loaded model, the thresholds, and the gallery of enrolled faces."""

    def __init__(
        self,
        model: RunnableModel,
        root: DataRoot,
        thresholds: Thresholds | None = None,
        on_warning: Callable[[str], None] | None = None,
        gallery: Gallery | MemoryGallery | None = None,
        keep_last_face: bool = False,
    ):
        """``thresholds``: None takes them from the model's metadata (else 0.5 / 0.5).
        ``gallery``: None is the data root's enrolled faces. ``keep_last_face``: write each
        verified face to ``input_image/input_image.jpg`` (the window and the commands do)."""
        self.model = model
        self.root = root
        self.thresholds = thresholds or Thresholds.resolve(metadata=model.metadata.values)
        self.on_warning = on_warning
        self.gallery = gallery or Gallery(
            root.verification_images, model, root.gallery_cache, on_warning=on_warning
        )
        self.keep_last_face = keep_last_face

    @classmethod
    def open(
        cls,
        data_root: str | os.PathLike | DataRoot | None = None,
        model: str | os.PathLike | None = None,
        *,
        gallery: Iterable[ImageSource] | None = None,
        thresholds: Thresholds | None = None,
        runtime: str = DEFAULT_RUNTIME,
    ) -> Verifier:
        """A verifier ready to use: the model (``model`` > the newest trained under the data
        root > the shipped one) and the enrolled faces (``gallery``: images in memory, else the
        data root's, which ``faceapp.enrol`` and the window's ``e`` fill)."""
        root = data_root if isinstance(data_root, DataRoot) else DataRoot.resolve(data_root)
        loaded = open_model(root, model, runtime)
        memory = MemoryGallery(gallery, loaded) if gallery is not None else None
        return cls(loaded, root, thresholds, gallery=memory)

    # --- one face ---------------------------------------------------------------------------

    def verify(self, image: ImageSource) -> Decision:
        """The decision on the face in an image (a path, encoded bytes or a BGR array)."""
        return self.verify_frame(load_bgr(image))[0]

    def embed(self, picture: FacePicture) -> np.ndarray:
        return self.model.embed_pictures([picture])[0]

    def scores(self, picture: FacePicture) -> tuple[np.ndarray, float | None]:
        """P(same person) of the face against every enrolled face, and against their mean
        (the centroid rule's; None under the vote)."""
        gallery = self.gallery.vectors()
        if len(gallery) == 0:
            raise FaceappError(
                f"no verification images in {self.root.verification_images} "
                "(enrol some: press 'e' in the app, or faceapp-enrol PHOTO...)"
            )
        return face_scores(self.model.head, self.embed(picture), gallery, self.thresholds.rule)

    def verify_picture(self, picture: FacePicture) -> Decision:
        scores, centroid_score = self.scores(picture)
        return decide(scores, self.thresholds, centroid_score)

    def verify_frame(
        self, frame_bgr: np.ndarray, face: Face | None = None, searched: bool = False
    ) -> tuple[Decision, FacePicture]:
        """The decision for the face in a frame, and the face as it was cut (one frame: a
        face too dark or blurred is still decided, as the user asked).

        ``face``/``searched``: the face already found in this frame (see
        :func:`faceapp.vision.crops.cut_face`)."""
        picture = self.model.picture(frame_bgr, face, searched)
        decision = self.verify_picture(picture)
        self._keep(picture)
        return decision, picture

    # --- one frame of many ------------------------------------------------------------------

    def judge(
        self, frame_bgr: np.ndarray, face: Face | None = None, searched: bool = False
    ) -> Judgement:
        """One frame of a multi-frame verification: a frame with no face, or a face too dark
        or too blurred, is skipped with the reason, not decided. The quality is judged on
        the face exactly as the network sees it, in the window and the commands alike."""
        picture = self.model.picture(frame_bgr, face, searched)
        problem = "no face" if not picture.found else frame_problem(picture.image)
        if problem:
            return Judgement(None, problem, picture)
        decision = self.verify_picture(picture)
        self._keep(picture)
        return Judgement(decision, None, picture)

    def _keep(self, picture: FacePicture) -> None:
        """The one writer of the last verified face (``input_image/input_image.jpg``)."""
        if not self.keep_last_face:
            return
        from faceapp.storage import replace_image

        try:
            replace_image(picture.image, self.root.input_image / LAST_FACE_FILE)
        except (OSError, FaceappError) as error:
            if self.on_warning is not None:
                self.on_warning(f"warning: could not save the input image: {one_line(error)}")
