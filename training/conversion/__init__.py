"""Networks trained elsewhere, converted to what faceapp runs (run once, with TensorFlow).

:mod:`~training.conversion.dlib_format` reads dlib's serialized networks with numpy alone;
:mod:`~training.conversion.dlib_network` rebuilds dlib's face-recognition ResNet as a Keras
model, layer for layer. ``python -m training.convert_dlib`` turns it into the int8 copy the
app runs (docs/accuracy.md, "Round three").
"""
