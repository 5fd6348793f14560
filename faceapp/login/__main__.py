"""``python -m faceapp.login``: the ``faceapp-login`` command (:mod:`faceapp.login.cli`)."""

import sys

from faceapp.login.cli import main

if __name__ == "__main__":
    sys.exit(main())
