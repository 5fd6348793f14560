"""``python -m training.import_negatives``: folders and archives into negative/ (no TF, no
network)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from training.import_negatives import main

PEOPLE = ("Aaron_Peirsol", "Abdullah_Gul", "Colin_Powell")


@pytest.fixture
def small_lfw(lfw, tmp_path) -> Path:
    """A three-person LFW-shaped folder (copies of real images) plus one corrupt file."""
    source = tmp_path / "lfw_small"
    for person in PEOPLE:
        (source / person).mkdir(parents=True)
        for k in (1, 2):
            name = f"{person}_{k:04d}.jpg"
            (source / person / name).write_bytes((lfw / person / name).read_bytes())
    (source / "Colin_Powell" / "Colin_Powell_0099.jpg").write_bytes(b"\xff\xd8 broken")
    (source / "README.txt").write_text("not an image")
    return source


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_import_folder_flattens_skips_corrupt_and_never_overwrites(small_lfw, data_root, capsys):
    assert main([str(small_lfw)]) == 0
    out, err = capsys.readouterr()
    negative = data_root / "negative"
    expected = sorted(f"{p}_{k:04d}.jpg" for p in PEOPLE for k in (1, 2))
    assert names(negative) == expected
    assert "imported 6 images" in out and "1 unreadable" in out
    assert err.count("\n") == 1 and "skipped 1 unreadable" in err and "Colin_Powell_0099" in err
    assert (negative / "Abdullah_Gul_0001.jpg").read_bytes() == (
        small_lfw / "Abdullah_Gul" / "Abdullah_Gul_0001.jpg"
    ).read_bytes()

    # an existing file is kept as it is, and a re-run copies nothing again
    (negative / "Colin_Powell_0001.jpg").write_bytes(b"mine")
    assert main([str(small_lfw), "--data-root", str(data_root)]) == 0
    out = capsys.readouterr().out
    assert "imported 0 images" in out and "6 already there" in out
    assert (negative / "Colin_Powell_0001.jpg").read_bytes() == b"mine"


def test_import_tgz_made_here(small_lfw, data_root, tmp_path, capsys):
    archive = tmp_path / "lfw.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(small_lfw, arcname="lfw")
        link = tarfile.TarInfo("lfw/evil_link.jpg")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
        data = b"x"
        escape = tarfile.TarInfo("../../escape.jpg")
        escape.size = len(data)
        tar.addfile(escape, io.BytesIO(data))
    assert main([str(archive), "--limit", "4"]) == 0
    assert len(names(data_root / "negative")) == 4
    assert main([str(archive)]) == 0
    assert "imported 2 images" in capsys.readouterr().out
    assert len(names(data_root / "negative")) == 6
    assert not (tmp_path / "escape.jpg").exists() and not (data_root / "escape.jpg").exists()


def test_clashing_names_keep_their_folder(tmp_path, data_root, face_path):
    for folder in ("a", "b"):
        (tmp_path / "src" / folder).mkdir(parents=True)
        (tmp_path / "src" / folder / "img.jpg").write_bytes(face_path.read_bytes())
    assert main([str(tmp_path / "src")]) == 0
    assert names(data_root / "negative") == ["a_img.jpg", "b_img.jpg"]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p / "missing", "source not found"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "no images found"),
        (lambda p: (p / "x.tgz").write_bytes(b"not gzip") and p / "x.tgz", "cannot open archive"),
        (lambda p: (p / "x.txt").write_text("hi") and p / "x.txt", "must be a folder or a .tgz"),
    ],
)
def test_bad_sources_are_one_line_errors(tmp_path, data_root, capsys, make, message):
    assert main([str(make(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_a_limit_takes_one_image_of_each_person_first(tmp_path):
    """--limit 3 on a tree of three people with two images each: one of each, not the first
    person's two (the alphabet's)."""
    import cv2
    import numpy as np

    from training.import_negatives import import_negatives

    tree = tmp_path / "tree"
    for person in ("Ann_A", "Bob_B", "Cid_C"):
        (tree / person).mkdir(parents=True)
        for k in (1, 2):
            image = np.full((40, 40, 3), 40 * k, np.uint8)
            cv2.imwrite(str(tree / person / f"{person}_{k:04d}.jpg"), image)
    result = import_negatives(tree, tmp_path / "negative", limit=3)
    copied = sorted(p.name for p in (tmp_path / "negative").iterdir())
    assert result.copied == 3
    assert copied == ["Ann_A_0001.jpg", "Bob_B_0001.jpg", "Cid_C_0001.jpg"]
