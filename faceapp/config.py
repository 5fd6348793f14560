"""Settings that persist: ``<data root>/settings.json``, what the window and the commands use
when no flag says otherwise (``faceapp-config`` shows and changes them).

    {"security": "high", "liveness": "passive", "camera": "0", "model": "shipped", "timeout": 5}

Precedence everywhere: a command-line flag, then this file, then the built-in default. Every
value is checked when read: a bad file or value is a one-line error naming the file, never
a silent fallback (a login check must not quietly lose its security level).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from faceapp.errors import FaceappError
from faceapp.liveness import LIVENESS_MODES
from faceapp.paths import DataRoot
from faceapp.verification import SECURITY_LEVELS

FILE_NAME = "settings.json"


@dataclass(frozen=True)
class Config:
    """The saved settings; None: not set (the built-in default applies)."""

    security: str | None = None
    liveness: str | None = None
    camera: str | None = None
    model: str | None = None  # "shipped", a shipped model's name, or a model file
    timeout: float | None = None


KEYS = tuple(f.name for f in fields(Config))
HELP = {
    "security": f"security level: {' or '.join(SECURITY_LEVELS)}",
    "liveness": f"liveness check: {' or '.join(LIVENESS_MODES)}",
    "camera": "webcam index, video file or image folder",
    "model": "shipped, a shipped model's name (e.g. faceapp-aligned-v1), or a model file",
    "timeout": "seconds the multi-frame mode may take",
}


def config_path(root: DataRoot) -> Path:
    return root.root / FILE_NAME


def check(key: str, value: Any, where: str = "") -> Any:
    """``value`` as the setting ``key`` holds it; a one-line error naming the key otherwise."""
    name = f"{where}{key}"
    if key not in KEYS:
        raise FaceappError(f"unknown setting {key!r} (known: {', '.join(KEYS)})")
    if value is None:
        return None
    if key == "security" and value not in SECURITY_LEVELS:
        raise FaceappError(f"{name} must be {' or '.join(SECURITY_LEVELS)}, got {value!r}")
    if key == "liveness" and value not in LIVENESS_MODES:
        raise FaceappError(f"{name} must be one of {', '.join(LIVENESS_MODES)}, got {value!r}")
    if key == "timeout":
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            raise FaceappError(f"{name} must be a number of seconds, got {value!r}") from None
        if not math.isfinite(seconds) or seconds <= 0:
            raise FaceappError(f"{name} must be a positive number of seconds, got {value!r}")
        return seconds
    if key in ("camera", "model") and (not isinstance(value, str) or not value.strip()):
        raise FaceappError(f"{name} must be a non-empty text, got {value!r}")
    return value.strip() if isinstance(value, str) else value


def load_config(root: DataRoot) -> Config:
    """The saved settings (none saved: all None); a damaged file is a one-line error."""
    path = config_path(root)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config()
    except OSError as error:
        raise FaceappError(f"cannot read settings {path}: {error.strerror}") from None
    try:
        values = json.loads(text)
    except json.JSONDecodeError as error:
        raise FaceappError(f"settings {path} are not valid JSON ({error.msg})") from None
    if not isinstance(values, dict):
        raise FaceappError(f"settings {path} must be a JSON object")
    return Config(**{key: check(key, value, f"{path}: ") for key, value in values.items()})


def save_setting(root: DataRoot, key: str, value: Any) -> Config:
    """Set (``value`` None: unset) one setting and write the file atomically, privately."""
    from faceapp.storage import write_bytes_atomic

    current = asdict(load_config(root))
    current[key] = check(key, value)
    kept = {k: v for k, v in current.items() if v is not None}
    root.ensure()
    text = json.dumps(kept, indent=2, sort_keys=True) + "\n"
    write_bytes_atomic(config_path(root), text.encode(), overwrite=True)
    return Config(**current)
