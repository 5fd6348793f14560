"""The benchmark command runs (at tiny sizes); speed itself is never asserted in tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def test_help_explains_the_sections():
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--help"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    for word in (
        "reference",
        "embedding",
        "training",
        "detection",
        "verification",
        "startup",
        "app",
        "--quick",
    ):
        assert word in done.stdout


def test_unknown_section_is_a_one_line_error():
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--only", "gpu"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "unknown gpu" in done.stderr


def test_missing_data_is_a_one_line_error_naming_the_folder(tmp_path):
    missing = tmp_path / "no-lfw"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--only", "detection", "--lfw", str(missing)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: LFW not found at {missing} (pass --lfw DIR or set FACEAPP_LFW)"
    ]


def test_quick_run_writes_the_table(lfw, tmp_path):
    output = tmp_path / "results.md"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--output", str(output), "--lfw", str(lfw)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    table = output.read_text()
    for row in (
        "TF matmul fp32",
        "batch 8, tf",
        "tf.data pipeline alone",
        "project: one 640x480 frame",
        "x faster than haar",
        "project: one frame, 5 verification images",
        "faceapp.verify PHOTO",
        "stage: embedding (int8, LiteRT)",
    ):
        assert row in table
