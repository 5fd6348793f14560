"""Identity pre-training (``python -m training.recipes``): a CosFace classifier over the
people of an identity tree, the dlib teacher and its views for distillation, and the
threshold calibrated under the app's rule."""
