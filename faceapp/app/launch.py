"""Opening the window: the worker first (it loads the model while Kivy starts), then Kivy.

Nothing here imports Kivy until the flags are known to be good, so ``--help`` and bad flags
answer at once.
"""

from __future__ import annotations

import sys

from faceapp.app.options import AppOptions, parse_args
from faceapp.errors import FaceappError, cli_guard


def display_problem() -> str | None:
    """Why no window can open here (Linux without X11 or Wayland), or None."""
    import os

    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return "no display to open the window on (set DISPLAY, or run under xvfb-run)"
    return None


def open_window(options: AppOptions, on_ready=None) -> int:
    """Start the inference worker, then open the window (the worker loads its model while
    Kivy starts: the two overlap); run until the window closes."""
    problem = display_problem()
    if problem:
        raise FaceappError(problem)
    from faceapp.app.worker import InferenceWorker

    worker = InferenceWorker(
        options.data_root,
        model_path=options.model,
        detection_threshold=options.detection_threshold,
        verification_threshold=options.verification_threshold,
        runtime=options.runtime,
        security=options.security,
    )
    worker.start()
    from faceapp.app.window import run_app  # Kivy is imported only once the flags are good

    return run_app(options, worker, on_ready=on_ready)


@cli_guard
def main(argv: list[str] | None = None) -> int:
    """``faceapp`` (``python -m faceapp``, ``make run``): the window, with its flags."""
    return open_window(parse_args(argv))
