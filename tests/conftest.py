"""Shared test fixtures: the faces in tests/fixtures, the full LFW and the shared videos
(for the tests that need them), temporary data roots, quiet TensorFlow."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KIVY_NO_ARGS", "1")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LFW_ENV_VAR = "FACEAPP_LFW"
LFW_DEFAULT = PROJECT_ROOT.parent / "shared" / "data" / "lfw"
VIDEOS_ENV_VAR = "FACEAPP_VIDEOS"
VIDEOS_DEFAULT = PROJECT_ROOT.parent / "shared" / "data" / "videos"
FACES = PROJECT_ROOT / "tests" / "fixtures" / "faces"


@pytest.fixture(scope="session")
def faces() -> Path:
    """50 LFW photos of 8 people, inside the repository (tests/fixtures/faces/README.md)."""
    return FACES


def face_photos(person: str, which: slice = slice(None)) -> list[Path]:
    """Photos of one person of the fixture, sorted."""
    return sorted((FACES / person).glob("*.jpg"))[which]


@pytest.fixture(scope="session")
def videos() -> Path:
    """The shared talking-head clips; tests that need them skip when they are absent."""
    root = Path(os.environ.get(VIDEOS_ENV_VAR, VIDEOS_DEFAULT))
    if not (root / "WDA_KatieHill_000.mp4").is_file():
        pytest.skip(f"shared videos not found at {root} (set {VIDEOS_ENV_VAR} to their folder)")
    return root


def lfw_root() -> Path:
    """The LFW folder: ``$FACEAPP_LFW`` or ``../shared/data/lfw`` beside the project."""
    return Path(os.environ.get(LFW_ENV_VAR, LFW_DEFAULT))


@pytest.fixture(scope="session")
def lfw() -> Path:
    """The LFW identity tree; tests that need it skip with the reason when it is absent."""
    root = lfw_root()
    if not (root / "Colin_Powell").is_dir():
        pytest.skip(f"LFW not found at {root} (set {LFW_ENV_VAR} to its folder)")
    return root


@pytest.fixture(scope="session")
def face_path() -> Path:
    """One real face photo."""
    return face_photos("Colin_Powell")[0]


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch) -> Path:
    """An empty data root in a temporary folder, also exported as FACEAPP_DATA_ROOT."""
    root = tmp_path / "data"
    monkeypatch.setenv("FACEAPP_DATA_ROOT", str(root))
    return root


def link_identity_tree(lfw: Path, tree: Path, people: int, images: int) -> list[Path]:
    """A small LFW-style tree under ``tree``: the first ``people`` LFW people with at least
    3 images, ``images`` of each, as symbolic links. Returns the LFW person folders used."""
    chosen = [p for p in sorted(lfw.iterdir()) if p.is_dir() and len(list(p.glob("*.jpg"))) >= 3][
        :people
    ]
    for person in chosen:
        (tree / person.name).mkdir(parents=True)
        for image in sorted(person.glob("*.jpg"))[:images]:
            (tree / person.name / image.name).symlink_to(image)
    return chosen
