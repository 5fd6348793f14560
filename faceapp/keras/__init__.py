"""Keras: the networks, safe loading and saving, conversion to the int8 run time.

The only package of faceapp that imports TensorFlow. Training and conversion use it; the
window, its worker and the headless commands never do (pyproject.toml's import contracts).

The architectures are named here, where training's flags can list them without importing
TensorFlow (``--help`` answers at once); :data:`faceapp.keras.networks.ARCHITECTURES` builds
them.
"""

ARCHITECTURE_NAMES = ("koch", "tiny", "compact", "wide")
DEFAULT_ARCHITECTURE = "koch"
