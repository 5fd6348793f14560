"""The enrolled faces' gallery (faceapp.verification.gallery): embedded once, kept on disk
privately, recomputed when anything about it changed and never trusted when damaged. On the
shipped model through LiteRT, so these run without TensorFlow (and under mutation testing)."""

from __future__ import annotations

import os
import shutil
import stat

import cv2
import numpy as np
import pytest
from conftest import face_photos
from tiny_models import OTHER, OWNER, enrol

from faceapp.paths import DataRoot
from faceapp.verification.verifier import Verifier, open_model


@pytest.fixture
def root(tmp_path) -> DataRoot:
    """A data root with five enrolled photos of the owner (and no trained model: the
    shipped one runs)."""
    root = DataRoot(tmp_path / "data").ensure()
    enrol(root.verification_images, face_photos(OWNER, slice(0, 5)))
    return root


def verifier_for(root: DataRoot, **kwargs) -> Verifier:
    return Verifier(open_model(root), root, **kwargs)


def image(path):
    return cv2.imread(str(path))


def test_the_gallery_is_embedded_once_and_only_changes_are_recomputed(root):
    verifier = verifier_for(root)
    probe = image(face_photos(OTHER)[0])
    verifier.verify_frame(probe)
    verifier.verify_frame(probe)
    assert verifier.gallery.embedded == 5
    first = verifier.gallery.vectors().copy()
    enrol(root.verification_images, face_photos(OWNER, slice(5, 6)))
    assert len(verifier.gallery) == 6 and verifier.gallery.embedded == 6
    np.testing.assert_array_equal(verifier.gallery.vectors()[:5], first)
    removed = sorted(root.verification_images.iterdir())[0]
    removed.unlink()
    assert len(verifier.gallery) == 5 and removed.name not in verifier.gallery.names
    changed = sorted(root.verification_images.iterdir())[0]
    cv2.imwrite(str(changed), cv2.flip(image(changed), 1))
    os.utime(changed, ns=(1, 1))
    verifier.gallery.vectors()
    assert verifier.gallery.embedded == 7


def test_the_gallery_is_kept_on_disk_privately_and_reused_by_the_next_run(root):
    verifier_for(root).gallery.vectors()
    (cache,) = root.gallery_cache.glob("*.npz")
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    again = verifier_for(root)
    again.verify_frame(image(face_photos(OWNER)[0]))
    assert again.gallery.embedded == 0  # one embedding: the probe's, not the gallery's


def test_a_removed_face_leaves_the_cache_on_disk_too(root):
    """The npz read back after a delete: a removed face's vector must not linger there (a
    later enrolment of another photo under its name would otherwise find it)."""
    verifier_for(root).gallery.vectors()
    removed = sorted(root.verification_images.iterdir())[0]
    removed.unlink()
    verifier_for(root).gallery.vectors()
    (cache,) = root.gallery_cache.glob("*.npz")
    with np.load(cache) as data:
        names = data["names"].tolist()
        assert data["vectors"].shape[0] == 4
    assert sorted(names) == sorted(p.name for p in root.verification_images.iterdir())


WHY_NOT_USED = {
    "garbage": "not used (",
    "foreign": "not used (made by another model); recomputing",
    "nan": "not used (inconsistent arrays); recomputing",
    "wrong size": "not used (inconsistent arrays); recomputing",
    "pickled": "not used (",
    "stale": None,  # a cache that is fine: only the changed image is embedded
}


@pytest.mark.parametrize("damage", list(WHY_NOT_USED))
def test_a_damaged_foreign_or_stale_cache_is_recomputed_never_trusted(root, damage, caplog):
    expected = verifier_for(root).gallery.vectors().copy()
    (cache,) = root.gallery_cache.glob("*.npz")
    if damage == "garbage":
        cache.write_bytes(b"PK\x03\x04 not really a zip")
    elif damage == "foreign":  # another model's embeddings under this name
        with np.load(cache) as data:
            values = dict(data)
        values["model"] = np.array("another model")
        values["vectors"] = values["vectors"] + 1.0
        np.savez(cache, **values)
    elif damage in ("nan", "wrong size"):  # this model's name, but values no run made
        with np.load(cache) as data:
            values = dict(data)
        vectors = values["vectors"].copy()
        if damage == "nan":
            vectors[0, 0] = np.nan
        else:
            vectors = vectors[:, :-1]
        values["vectors"] = vectors
        np.savez(cache, **values)
    elif damage == "pickled":  # Python objects in the file: loading them could run code
        with np.load(cache) as data:
            values = dict(data)
        values["names"] = np.array(values["names"].tolist(), dtype=object)
        np.savez(cache, **values)
    else:  # an image replaced by another with the same name
        victim = sorted(root.verification_images.iterdir())[0]
        shutil.copy(face_photos(OWNER)[9], victim)
        expected = None
    caplog.set_level("DEBUG", logger="faceapp.verification.gallery")
    verifier = verifier_for(root)
    vectors = verifier.gallery.vectors()
    assert verifier.gallery.embedded == (1 if damage == "stale" else 5)
    if expected is not None:
        np.testing.assert_allclose(vectors, expected, atol=1e-6)
    said = [r.getMessage() for r in caplog.records if "gallery cache" in r.getMessage()]
    if WHY_NOT_USED[damage] is None:
        assert said == []
    else:  # one debug line, naming the file and why
        assert len(said) == 1 and said[0].startswith(f"gallery cache {cache} not used (")
        assert WHY_NOT_USED[damage] in said[0]


def test_unreadable_verification_images_are_skipped_with_one_warning(root):
    """Unreadable files first in the folder's order: skipped, and every image after them
    still embedded; one warning naming the first file and why."""
    broken = root.verification_images / "0-broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (root.verification_images / "1-notes.jpg").write_text("not an image")
    warnings = []
    verifier = verifier_for(root, on_warning=warnings.append)
    assert verifier.verify_frame(image(face_photos(OTHER)[0]))[0].total == 5
    verifier.verify_frame(image(face_photos(OTHER)[0]))
    assert len(warnings) == 1
    assert warnings[0].startswith("warning: skipped 2 unreadable verification images: ")
    assert warnings[0].endswith(f": {broken} (and 1 more)")


def test_a_face_cut_without_alignment_is_noted_by_its_file_name(root):
    (root.verification_images / "blank.jpg").write_bytes(
        cv2.imencode(".jpg", np.full((300, 300, 3), 128, np.uint8))[1].tobytes()
    )
    gallery = verifier_for(root).gallery
    gallery.vectors()
    assert list(gallery.notes) == ["blank.jpg"] and gallery.notes["blank.jpg"]


def test_a_gallery_given_in_memory_is_embedded_once_and_named(tmp_path):
    """``Verifier.open(gallery=[...])``: paths and decoded images alike, named by path or by
    position, with the same embeddings as the same photos on disk; nothing written."""
    from faceapp.errors import FaceappError
    from faceapp.verification.gallery import MemoryGallery

    photos = face_photos(OWNER, slice(0, 3))
    model = open_model(DataRoot(tmp_path / "data"))
    memory = MemoryGallery([photos[0], str(photos[1]), image(photos[2])], model)
    assert memory.names == [str(photos[0]), str(photos[1]), "image 2"]
    assert memory.warning is None and len(memory) == 3
    root = DataRoot(tmp_path / "disk").ensure()
    enrol(root.verification_images, photos)
    on_disk = verifier_for(root).gallery.vectors()
    np.testing.assert_allclose(memory.vectors(), on_disk, atol=1e-6)
    verifier = Verifier.open(tmp_path / "data", gallery=photos)
    decision, _ = verifier.verify_frame(image(face_photos(OWNER)[5]))
    assert decision.total == 3 and decision.verified
    assert not (tmp_path / "data" / "verification_images").exists()  # nothing enrolled
    with pytest.raises(FaceappError, match="^the gallery is empty: give at least one image"):
        MemoryGallery(iter([]), model)


def test_a_face_cut_without_alignment_is_noted_by_name(tmp_path):
    from faceapp.verification.gallery import MemoryGallery

    blank = np.full((300, 300, 3), 128, np.uint8)  # no face: the central box is used
    memory = MemoryGallery([face_photos(OWNER)[0], blank], open_model(DataRoot(tmp_path)))
    assert list(memory.notes) == ["image 1"] and memory.notes["image 1"]


def test_an_image_that_cannot_be_read_is_skipped_by_name_and_the_rest_still_count(
    root, monkeypatch
):
    """A file the process may not read (as root, chmod cannot make one: the read is made to
    fail), first in the folder's order: named in the warning with the system's reason, and
    every image after it still embedded."""
    from pathlib import Path

    locked = root.verification_images / "0-locked.jpg"
    shutil.copy(face_photos(OWNER)[9], locked)
    read_bytes = Path.read_bytes

    def refuse_the_locked_one(path):
        if path.name == locked.name:
            raise PermissionError(13, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", refuse_the_locked_one)
    warnings = []
    gallery = verifier_for(root, on_warning=warnings.append).gallery
    assert len(gallery) == 5 and locked.name not in gallery.names
    assert warnings == [
        f"warning: skipped 1 unreadable verification images: cannot read {locked}: "
        "Permission denied"
    ]


def test_removing_every_face_leaves_an_empty_cache_of_the_models_size(root):
    verifier_for(root).gallery.vectors()
    for photo in root.verification_images.iterdir():
        photo.unlink()
    gallery = verifier_for(root).gallery
    assert len(gallery) == 0 and gallery.vectors().shape == (0, gallery.model.head.dimensions)
    (cache,) = root.gallery_cache.glob("*.npz")
    with np.load(cache) as data:
        assert data["vectors"].shape == (0, gallery.model.head.dimensions)
        assert data["names"].tolist() == []


def test_a_gallery_without_a_cache_folder_embeds_and_writes_nothing(root):
    from faceapp.verification.gallery import Gallery

    gallery = Gallery(root.verification_images, open_model(root), cache_dir=None)
    assert len(gallery) == 5 and gallery.embedded == 5
    assert not root.gallery_cache.exists() or not list(root.gallery_cache.iterdir())


def test_a_cache_that_cannot_be_written_costs_a_debug_line_not_the_verification(root, caplog):
    root.gallery_cache.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(root.gallery_cache)
    root.gallery_cache.write_text("a file where the cache's folder should be")
    caplog.set_level("DEBUG", logger="faceapp.verification.gallery")
    verifier = verifier_for(root)
    decision, _ = verifier.verify_frame(image(face_photos(OWNER)[6]))
    assert decision.total == 5 and decision.verified
    said = [r.getMessage() for r in caplog.records]
    cache = verifier.gallery.cache_file
    assert len(said) == 1 and said[0].startswith(f"gallery cache {cache} not written: "), said
    assert str(root.gallery_cache) in said[0].split(" not written: ")[1]  # what stood in the way


def test_the_warning_is_said_only_when_there_is_one_and_someone_to_tell(root):
    warnings = []
    assert len(verifier_for(root, on_warning=warnings.append).gallery) == 5
    assert warnings == []  # a clean folder: nothing to say
    (root.verification_images / "0-broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    unheard = verifier_for(root).gallery  # no one to tell: it is kept, not said
    assert len(unheard) == 5 and unheard.warning.startswith("warning: skipped 1 unreadable")
