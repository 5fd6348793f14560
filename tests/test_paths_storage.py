"""The data root, atomic private writes, and model metadata / threshold precedence."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import numpy as np
import pytest

from faceapp.errors import FaceappError, cli_guard
from faceapp.models.metadata import read_metadata, write_metadata
from faceapp.paths import FOLDERS, DataRoot, resolve_root
from faceapp.storage import atomic_path, replace_image, save_image, write_bytes_atomic
from faceapp.verification.rule import Thresholds, parse_threshold
from faceapp.vision.imaging import read_image

posix_only = pytest.mark.skipif(os.name != "posix", reason="permission bits are POSIX")


def test_root_precedence_flag_then_environment_then_default(tmp_path, monkeypatch):
    monkeypatch.delenv("FACEAPP_DATA_ROOT", raising=False)
    checkout = Path(__file__).resolve().parent.parent
    assert resolve_root() == checkout / "application_data"  # a checkout keeps its own
    monkeypatch.setenv("FACEAPP_DATA_ROOT", str(tmp_path / "env"))
    assert resolve_root() == tmp_path / "env"
    assert resolve_root(tmp_path / "flag") == tmp_path / "flag"


def test_an_installed_copy_defaults_to_the_users_data_folder(tmp_path, monkeypatch):
    import faceapp.paths

    monkeypatch.delenv("FACEAPP_DATA_ROOT", raising=False)
    monkeypatch.setattr(faceapp.paths, "CHECKOUT", tmp_path / "site-packages")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert resolve_root() == tmp_path / "data" / "faceapp"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert resolve_root() == tmp_path / "home" / ".local" / "share" / "faceapp"


def test_a_data_root_that_cannot_be_used_is_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(FaceappError, match=r"cannot use data root .*file: it is a file, not"):
        DataRoot(tmp_path / "file").ensure()
    with pytest.raises(FaceappError, match=r"cannot use data root /proc/nope"):
        DataRoot(Path("/proc/nope")).ensure()


@posix_only
def test_ensure_creates_the_private_layout(data_root):
    root = DataRoot.resolve().ensure()
    assert root.root == data_root
    for name in FOLDERS:
        folder = data_root / name
        assert folder.is_dir()
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


@posix_only
def test_writing_into_an_existing_shared_folder_leaves_its_mode_alone(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o1777)
    write_bytes_atomic(shared / "file.bin", b"x")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    write_bytes_atomic(shared / "new" / "deeper" / "file.bin", b"x")
    assert stat.S_IMODE((shared / "new").stat().st_mode) == 0o700
    assert stat.S_IMODE((shared / "new" / "deeper").stat().st_mode) == 0o700
    assert stat.S_IMODE((shared / "new" / "deeper" / "file.bin").stat().st_mode) == 0o600


@posix_only
def test_ensure_tightens_an_existing_data_root(data_root):
    data_root.mkdir(mode=0o755)
    os.chmod(data_root, 0o755)
    DataRoot(data_root).ensure()
    assert stat.S_IMODE(data_root.stat().st_mode) == 0o700


def test_the_newest_trained_model_ignores_hidden_temporary_and_other_files(data_root):
    """The live rule (faceapp.models.files.newest_trained): a half-written model's hidden
    temporary name (storage.atomic_path's ``.name.tmp-XXXX.keras``) is never chosen, however
    new; an int8-only model counts; metadata alone does not."""
    from faceapp.models.files import newest_trained

    root = DataRoot.resolve().ensure()
    assert newest_trained(root) is None
    old, new = root.models / "a.keras", root.models / "b.int8.tflite"
    old.write_bytes(b"x")
    new.write_bytes(b"x")
    os.utime(old, ns=(1, 1))
    os.utime(new, ns=(2, 2))
    for hidden in (".good2.tmp-abc123.keras", ".c.int8.tflite"):
        (root.models / hidden).write_bytes(b"x")  # newer than both
    (root.models / "z.json").write_text("{}")
    (root.models / "folder.keras").mkdir()
    chosen = newest_trained(root)
    assert chosen is not None and chosen.stem == root.models / "b"
    assert chosen.origin == "trained"


@posix_only
def test_captures_get_unique_private_names_and_are_never_overwritten(tmp_path, face_path):
    frame = read_image(face_path)
    paths = {save_image(frame, tmp_path / "anchor") for _ in range(5)}
    assert len(paths) == 5
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert read_image(path).shape == frame.shape
    assert not [p for p in (tmp_path / "anchor").iterdir() if p.name.startswith(".")]
    # named by the time they were taken, then a random part: they sort as they were taken
    assert all(re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{8}\.jpg", p.name) for p in paths), paths


def test_atomic_write_refuses_to_overwrite_unless_asked(tmp_path):
    target = write_bytes_atomic(tmp_path / "x.bin", b"one")
    with pytest.raises(FaceappError, match="refusing to overwrite"):
        write_bytes_atomic(target, b"two")
    assert target.read_bytes() == b"one"
    write_bytes_atomic(target, b"two", overwrite=True)
    assert target.read_bytes() == b"two"


def test_a_file_that_appears_while_writing_is_kept_not_overwritten(tmp_path):
    """Another process creates the target between the check and the rename: the rename
    itself must refuse, and no temporary file is left behind."""
    target = tmp_path / "x.bin"
    with pytest.raises(FaceappError, match="refusing to overwrite"), atomic_path(target) as temp:
        temp.write_bytes(b"ours")
        target.write_bytes(b"theirs")
    assert target.read_bytes() == b"theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["x.bin"]


def test_a_capture_name_sorts_by_time_and_keeps_its_prefix(tmp_path, face_path):
    import re

    from faceapp.storage import unique_name

    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{8}\.jpg", unique_name())
    assert re.fullmatch(r"x-\d{8}-\d{6}-[0-9a-f]{8}\.png", unique_name("x-", ".png"))
    saved = save_image(read_image(face_path), tmp_path, prefix="anchor-")
    assert re.fullmatch(r"anchor-\d{8}-\d{6}-[0-9a-f]{8}\.jpg", saved.name)


def test_without_hard_links_the_rename_still_refuses_to_overwrite(tmp_path, monkeypatch):
    """On a file system without hard links (os.link fails): moved into place when the target
    is absent, refused when it is there."""

    def no_links(source, target):
        raise PermissionError("hard links not supported")

    monkeypatch.setattr(os, "link", no_links)
    moved = write_bytes_atomic(tmp_path / "x.bin", b"one")
    assert moved.read_bytes() == b"one"
    target = tmp_path / "y.bin"
    refused = pytest.raises(FaceappError, match=f"^refusing to overwrite existing file: {target}$")
    with refused, atomic_path(target) as temp:
        temp.write_bytes(b"two")
        target.write_bytes(b"theirs")  # appears between the check and the rename
    assert target.read_bytes() == b"theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.bin", "y.bin"]


def test_replace_image_updates_in_place(tmp_path):
    target = tmp_path / "input_image" / "input_image.jpg"
    replace_image(np.zeros((20, 20, 3), np.uint8), target)
    replace_image(np.full((20, 20, 3), 255, np.uint8), target)
    assert read_image(target).mean() > 250
    assert [p.name for p in target.parent.iterdir()] == ["input_image.jpg"]


def test_thresholds_flag_then_metadata_then_defaults(tmp_path):
    model = tmp_path / "m.keras"
    assert read_metadata(model) == {}
    write_metadata(model, {"detection_threshold": 0.7, "verification_threshold": 0.6})
    meta = read_metadata(model)
    assert Thresholds.resolve(metadata=meta) == Thresholds(0.7, 0.6)
    assert Thresholds.resolve("0.9", None, meta) == Thresholds(0.9, 0.6)
    assert Thresholds.resolve() == Thresholds(0.5, 0.5)


@pytest.mark.parametrize("value", ["abc", "1.5", "-0.1", "nan", None, [0.5]])
def test_bad_threshold_names_the_setting(value):
    with pytest.raises(FaceappError, match="--detection-threshold"):
        parse_threshold(value, "--detection-threshold")


def test_corrupt_metadata_is_a_one_line_error(tmp_path):
    (tmp_path / "m.json").write_text("{not json")
    with pytest.raises(FaceappError, match="unreadable model metadata"):
        read_metadata(tmp_path / "m.keras")


def test_cli_guard_prints_one_line_and_exits_2(capsys):
    @cli_guard
    def main():
        raise FaceappError("model file not found:\n  x.keras")

    assert main() == 2
    assert capsys.readouterr().err == "error: model file not found: x.keras\n"
