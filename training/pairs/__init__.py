"""Training the Siamese network on pairs (``python -m training.run``): the data split before
pairing, the fit with checkpoints, and the distribution strategy."""
