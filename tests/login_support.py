"""What the login tests share: a login.toml for a test folder."""

from __future__ import annotations

import json
from pathlib import Path


def write_config(folder: Path, camera: Path | str, **extra) -> Path:
    """``folder/login.toml``: the store and the log inside ``folder``, ``camera`` as the
    camera, ``liveness = "passive"`` (a clip cannot answer the challenge; the tests that
    need the challenge say so), and any other setting given."""
    values = {
        "camera": str(camera),
        "timeout": 4.0,
        "store": str(folder / "store"),
        "log": str(folder / "log" / "login.log"),
        "security": "high",
        "liveness": "passive",
        **extra,
    }
    config = folder / "login.toml"
    config.write_text("".join(f"{key} = {toml(value)}\n" for key, value in values.items()))
    return config


def toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)  # strings quoted and escaped, numbers as they are
