"""faceapp: the desktop face-verification window (``make run``; installed: ``faceapp``).

    python main.py [--camera 0|video.mp4|folder/] [--data-root DIR] [--model FILE]
                   [--detection-threshold T] [--verification-threshold T] [--timeout S]

Keys: a anchor, p positive, e enrol, v verify, t verify for up to --timeout s, q/Esc quit.
See docs/app.md. Bad flags print one line and exit with status 2.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("KIVY_NO_ARGS", "1")  # our flags are ours, not Kivy's

from faceapp.app.launch import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
