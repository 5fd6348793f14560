"""Keras: the networks, safe loading and saving, conversion to the int8 run time.

The only package of faceapp that imports TensorFlow. Training and conversion use it; the
window, its worker and the headless commands never do (pyproject.toml's import contracts).
"""
