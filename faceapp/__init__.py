"""faceapp: face verification with a Siamese network (Koch et al. 2015).

The package is split into small modules with one job each. Importing ``faceapp``
itself is cheap and never imports TensorFlow or Kivy, so the GUI process (which must
not load TensorFlow, see ``faceapp.worker``) can use the light modules freely:

- ``faceapp.paths``     the data root and its folders
- ``faceapp.errors``    the one error type users see, and the CLI guard
- ``faceapp.imaging``   read images, the one preprocessing (-> 100x100x3 RGB in [0, 1])
- ``faceapp.storage``   unique names, atomic and private writes
- ``faceapp.metadata``  the JSON file beside a model (thresholds, metrics)
- ``faceapp.model``     the Siamese network, L1Dist, save and load (Keras only)
"""

__version__ = "0.1.0"
