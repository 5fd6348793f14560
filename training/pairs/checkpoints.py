"""Checkpoints for resuming an interrupted training run.

A run lives in ``<data root>/checkpoints/<run id>/``; the id is a hash of the settings
that define the run (data, model, optimiser, seed; not the number of epochs), so
re-running the same command finds its own checkpoints and continues.

- ``epoch-0010.keras``: the whole model with its optimiser state, every N epochs,
  written atomically (a kill mid-write leaves the previous checkpoint intact);
- ``state.json``: the last completed checkpoint's epoch and file, and whether the run finished;
- ``history.csv``: one row per epoch (Keras ``CSVLogger``), trimmed on resume to the
  epochs before the checkpoint so no epoch appears twice.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
from pathlib import Path

from faceapp.errors import FaceappError
from faceapp.paths import make_private_dir
from faceapp.storage import write_bytes_atomic

KEEP_CHECKPOINTS = 2


def run_id(settings: dict) -> str:
    """``run-<10 hex>`` from the JSON of ``settings`` (stable across runs)."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return "run-" + hashlib.sha1(text.encode()).hexdigest()[:10]


class RunFolder:
    """One run's checkpoint folder."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.state_path = self.folder / "state.json"
        self.history_path = self.folder / "history.csv"

    def state(self) -> dict:
        if not self.state_path.exists():
            return {}
        try:
            return json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise FaceappError(f"unreadable checkpoint state {self.state_path}: {error}") from None

    def resumable(self) -> tuple[Path, int] | None:
        """``(checkpoint, epoch)`` of an unfinished run, or None."""
        state = self.state()
        if not state or state.get("finished"):
            return None
        path = self.folder / state["checkpoint"]
        if not path.is_file():
            raise FaceappError(f"checkpoint named in {self.state_path} is missing: {path}")
        return path, int(state["epoch"])

    def start_fresh(self) -> None:
        """Forget any earlier run with these settings."""
        if self.folder.exists():
            shutil.rmtree(self.folder)
        make_private_dir(self.folder.parent)
        make_private_dir(self.folder)

    def remove_temporaries(self) -> int:
        """Delete hidden temporary files left by a write that was killed; return how many."""
        stale = list(self.folder.glob(".*.tmp-*")) if self.folder.is_dir() else []
        for path in stale:
            path.unlink(missing_ok=True)
        return len(stale)

    def create_history(self) -> None:
        """Create the (empty) history file private to the user, if there is none yet."""
        if not self.history_path.exists():
            os.close(os.open(self.history_path, os.O_CREAT | os.O_WRONLY, 0o600))

    def write_state(self, **state) -> None:
        write_bytes_atomic(
            self.state_path, (json.dumps(state, indent=2) + "\n").encode(), overwrite=True
        )

    def checkpoint_path(self, epoch: int) -> Path:
        return self.folder / f"epoch-{epoch:04d}.keras"

    def prune(self, keep: int = KEEP_CHECKPOINTS) -> None:
        """Delete all but the newest ``keep`` checkpoints."""
        for old in sorted(self.folder.glob("epoch-*.keras"))[:-keep]:
            old.unlink(missing_ok=True)

    def trim_history(self, epochs: int) -> None:
        """Keep only the history rows of epochs ``< epochs`` (those the checkpoint has)."""
        if not self.history_path.exists():
            return
        rows = list(csv.reader(io.StringIO(self._whole_rows())))
        if not rows:  # not even a whole header: start the file afresh, or rows would glue on
            write_bytes_atomic(self.history_path, b"", overwrite=True)
            return
        header, body = rows[0], rows[1:]
        column = header.index("epoch") if "epoch" in header else 0
        kept = [
            row for row in body if _complete(row, len(header)) and int(float(row[column])) < epochs
        ]
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([header, *kept])
        write_bytes_atomic(self.history_path, out.getvalue().encode(), overwrite=True)

    def read_history(self) -> dict[str, list[float]]:
        """The history CSV as ``{column: values}`` (empty when there is none)."""
        if not self.history_path.exists():
            return {}
        reader = csv.reader(io.StringIO(self._whole_rows()))
        header = next(reader, [])
        rows = [row for row in reader if _complete(row, len(header))]
        return {key: [float(row[k]) for row in rows] for k, key in enumerate(header)}

    def _whole_rows(self) -> str:
        """The history up to its last line end: a row a kill cut short has none, and its
        last value may still parse ("0." of "0.43"), so it is dropped by its missing end."""
        text = self.history_path.read_text(encoding="utf-8", errors="replace")
        return text[: text.rfind("\n") + 1]


def _complete(row: list[str], width: int) -> bool:
    """A whole history row: every column present and a number (a kill can cut the last)."""
    if len(row) != width:
        return False
    try:
        [float(value) for value in row]
    except ValueError:
        return False
    return True
