"""Liveness: is a live person in front of the camera, or a picture of one?

``passive`` (:mod:`~faceapp.liveness.passive`) watches the face move over a few frames; no
prompt. The modes are named here so that command-line flags can list them without importing
OpenCV.
"""

LIVENESS_MODES = ("off", "passive")
DEFAULT_LIVENESS = "passive"
