"""Measuring a model (``python -m training.evaluate``): error rates, the LFW pairs protocol,
the enrolled-owner scenario, real video, liveness, and plots."""
