"""``python -m faceapp``: the window (the same as ``faceapp`` and ``make run``)."""

import os
import sys

os.environ.setdefault("KIVY_NO_ARGS", "1")  # our flags are ours, not Kivy's

from faceapp.app.launch import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
