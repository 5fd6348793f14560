"""The login's settings: one TOML file, root-owned, every value checked.

    # /etc/faceapp/login.toml
    camera = "0"               # webcam index or a video file / image folder (tests)
    timeout = 4.0              # seconds a face check may take (the PAM line caps it too)
    liveness = "challenge"     # off | passive | challenge (head movements asked in turn)
    security = "high"          # standard | high
    store = "/var/lib/faceapp" # where each user's enrolled faces are kept
    log = "/var/log/faceapp/login.log"
    max_failures = 5           # face attempts that fail within lockout_minutes ...
    lockout_minutes = 10       # ... refuse the face check for that user until a password login
    snapshots = false          # keep a picture of each failed attempt (0600)
    model = ""                 # a shipped model's name or a model file ("": the default)

A missing file means the defaults above. A file that cannot be read, is not TOML, names an
unknown setting or holds a bad value is one :class:`~faceapp.errors.FaceappError` line:
the check logs it and refuses. Never a crash, never an open door.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

from faceapp.errors import FaceappError
from faceapp.liveness import LIVENESS_MODES
from faceapp.verification import SECURITY_LEVELS

DEFAULT_PATH = Path("/etc/faceapp/login.toml")
MAX_TIMEOUT = 10.0  # a login must never wait long (the challenge adds its answers' time)


@dataclass(frozen=True)
class LoginConfig:
    camera: str = "0"
    timeout: float = 4.0
    liveness: str = "challenge"
    security: str = "high"
    store: Path = Path("/var/lib/faceapp")
    log: Path = Path("/var/log/faceapp/login.log")
    max_failures: int = 5
    lockout_minutes: float = 10.0
    snapshots: bool = False
    model: str = ""


def _checked(key: str, value, where: str):
    """``value`` as setting ``key`` holds it; a one-line error otherwise."""
    name = f"{where}: {key}"
    if key in ("camera", "model"):
        if not isinstance(value, str) or (key == "camera" and not value.strip()):
            raise FaceappError(f"{name} must be a text, got {value!r}")
        return value.strip()
    if key in ("store", "log"):
        if not isinstance(value, str) or not os.path.isabs(value):
            raise FaceappError(f"{name} must be an absolute path, got {value!r}")
        return Path(value)
    if key == "liveness":
        if value not in LIVENESS_MODES:
            raise FaceappError(f"{name} must be one of {', '.join(LIVENESS_MODES)}, got {value!r}")
        return value
    if key == "security":
        if value not in SECURITY_LEVELS:
            raise FaceappError(f"{name} must be {' or '.join(SECURITY_LEVELS)}, got {value!r}")
        return value
    if key == "snapshots":
        if not isinstance(value, bool):
            raise FaceappError(f"{name} must be true or false, got {value!r}")
        return value
    if key == "max_failures":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise FaceappError(f"{name} must be a whole number of at least 1, got {value!r}")
        return value
    # timeout, lockout_minutes
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FaceappError(f"{name} must be a number, got {value!r}")
    if key == "timeout" and not 0 < value <= MAX_TIMEOUT:
        raise FaceappError(f"{name} must be between 0 and {MAX_TIMEOUT:g}, got {value!r}")
    if value <= 0:
        raise FaceappError(f"{name} must be above 0, got {value!r}")
    return float(value)


def load_login_config(path: Path | str = DEFAULT_PATH) -> LoginConfig:
    """The settings of ``path`` over the defaults (no file: the defaults)."""
    path = Path(path)
    try:
        text = path.read_bytes()
        info = os.stat(path)
    except FileNotFoundError:
        return LoginConfig()
    except OSError as error:
        raise FaceappError(f"cannot read {path}: {error.strerror}") from None
    if os.geteuid() == 0 and (info.st_uid != 0 or info.st_mode & 0o022):
        # run by PAM as root: a file someone else can change could point the check at
        # their own faces or camera
        raise FaceappError(f"{path} must be root's and writable by root alone")
    try:
        values = tomllib.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise FaceappError(f"{path} is not valid TOML ({error})") from None
    known = {f.name for f in fields(LoginConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise FaceappError(
            f"{path}: unknown setting {unknown[0]!r} (known: {', '.join(sorted(known))})"
        )
    return replace(
        LoginConfig(), **{key: _checked(key, value, str(path)) for key, value in values.items()}
    )
