"""faceapp as an installed package: ``pip install .`` gives working commands, its networks
and shipped model inside, its data in the user's data folder, and the README's three-line
script runs as printed.

The package is installed with pip into a folder of its own (``--target``, no network: its
dependencies are this environment's), and everything then runs from another folder, so the
checkout cannot be imported by accident.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FACES = PROJECT_ROOT / "tests" / "fixtures" / "faces"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("src")
    # a copy of the tracked tree, so building never writes into the checkout
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in files:
        source = PROJECT_ROOT / name
        if source.is_file():
            (build / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, build / name)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(build),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return target


def run(installed: Path, tmp_path: Path, *command: str):
    """Run a command of the installed copy from ``tmp_path``, with a home of its own."""
    environment = {
        **os.environ,
        "PYTHONPATH": str(installed),
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    environment.pop("FACEAPP_DATA_ROOT", None)  # the installed default must be used
    return subprocess.run(
        list(command), cwd=tmp_path, capture_output=True, text=True, timeout=120, env=environment
    )


def test_the_commands_are_installed_and_answer_help(installed, tmp_path):
    for script in ("faceapp", "faceapp-verify", "faceapp-enrol"):
        done = run(installed, tmp_path, str(installed / "bin" / script), "--help")
        assert done.returncode == 0, done.stderr
        assert "usage:" in done.stdout


def test_the_installed_package_is_the_one_imported_with_its_files(installed, tmp_path):
    code = (
        "import faceapp, faceapp.paths as p, sys;"
        "from faceapp.models.files import shipped_model;"
        "from faceapp.vision.facenets import network_path, LANDMARKS_FILE;"
        "print(faceapp.__file__); print(faceapp.Verifier.__name__);"
        "print(shipped_model().int8_path.is_file(), network_path(LANDMARKS_FILE).is_file());"
        "print(p.resolve_root()); print('tensorflow' in sys.modules or 'kivy' in sys.modules)"
    )
    done = run(installed, tmp_path, sys.executable, "-c", code)
    assert done.returncode == 0, done.stderr
    module, verifier, files, root, heavy = done.stdout.split("\n")[:5]
    assert module.startswith(str(installed)) and verifier == "Verifier"
    assert files == "True True" and heavy == "False"
    assert root == str(tmp_path / "data" / "faceapp")  # the user's data folder, not site-packages


def test_the_readme_script_runs_as_printed(installed, tmp_path):
    readme = (PROJECT_ROOT / "README.md").read_text()
    script = re.search(r"```python\n(import faceapp\n.*?)```", readme, re.S)
    assert script, "README has no three-line faceapp script"
    assert len([line for line in script.group(1).splitlines() if line.strip()]) == 3
    owner = sorted((FACES / "Colin_Powell").glob("*.jpg"))
    enrolled = run(
        installed, tmp_path, str(installed / "bin" / "faceapp-enrol"), *map(str, owner[:3])
    )
    assert enrolled.returncode == 0, enrolled.stderr
    shutil.copy(owner[3], tmp_path / "photo.jpg")
    (tmp_path / "script.py").write_text(script.group(1))
    done = run(installed, tmp_path, sys.executable, "script.py")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(("Verified: ", "Unverified: "))
    assert "against 3 enrolled face(s)" in done.stdout
