"""Timing, rows of the results table, and writing the table as text and markdown.

Every figure is a :class:`Row`: what was measured, its value and unit, and (where it makes
sense) the reference it is compared with *measured in the same run*, the ratio of the two
and the target for that ratio. Absolute speeds on a shared machine drift by tens of per cent
from one minute to the next; the ratios are the figures to compare between runs.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Timing:
    """Repeated timings of one callable, in seconds."""

    samples: list[float]

    @property
    def best(self) -> float:
        return min(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def time_calls(
    fn: Callable[[], object], repeats: int, warmup: int = 1, min_time: float = 0.0
) -> Timing:
    """Call ``fn`` ``warmup`` times untimed, then ``repeats`` times (at least ``min_time`` s).

    The median is the figure reported (robust to a neighbour's burst on a shared machine);
    the best is kept for the notes.
    """
    for _ in range(warmup):
        fn()
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < max(1, repeats) or time.perf_counter() - started < min_time:
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return Timing(samples)


def timed(fn: Callable[..., object], *args) -> tuple[object, float]:
    """``(fn(*args), seconds it took)``: one call, when the result is needed too."""
    started = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - started


@dataclass
class Row:
    """One line of the results table."""

    section: str
    name: str
    value: float | None
    unit: str
    reference: str = ""  # e.g. "matmul fp32 (TF) 410 GFLOP/s"
    ratio: float | None = None  # value (or its FLOP rate) divided by the reference
    ratio_label: str = ""  # how the ratio reads: "x matmul rate", "x one embedding"
    target: str = ""  # e.g. ">= 0.90"
    meets: bool | None = None
    note: str = ""

    def cells(self) -> list[str]:
        value = "not measured yet" if self.value is None else _fmt(self.value)
        ratio = "" if self.ratio is None else f"{self.ratio:.2f} {self.ratio_label}".strip()
        verdict = "" if self.meets is None else ("yes" if self.meets else "**no**")
        unit = "" if self.value is None else self.unit
        return [
            self.section,
            self.name,
            f"{value} {unit}".strip(),
            self.reference,
            ratio,
            self.target,
            verdict,
            self.note,
        ]


HEADERS = [
    "section",
    "benchmark",
    "figure",
    "reference (same run)",
    "ratio",
    "target",
    "meets",
    "note",
]


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def at_least(ratio: float, target: float) -> bool:
    return ratio >= target


def at_most(ratio: float, target: float) -> bool:
    return ratio <= target


@dataclass
class Results:
    """The rows of one run plus free-text notes (what was tried, what was skipped)."""

    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        print("  " + " | ".join(c for c in row.cells()[1:] if c), flush=True)
        return row

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}", flush=True)

    def text_table(self) -> str:
        table = [HEADERS] + [r.cells() for r in self.rows]
        widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
        widths[-1] = 0  # the note column is not padded
        lines = []
        for k, line in enumerate(table):
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip())
            if k == 0:
                lines.append("  ".join("-" * w for w in widths[:-1]) + "  ----")
        return "\n".join(lines)

    def markdown(self, header: str) -> str:
        def esc(cell: str) -> str:
            return cell.replace("|", "\\|")

        out = [
            header,
            "",
            "| " + " | ".join(HEADERS) + " |",
            "|" + "|".join("---" for _ in HEADERS) + "|",
        ]
        out += ["| " + " | ".join(esc(c) for c in r.cells()) + " |" for r in self.rows]
        if self.notes:
            out += ["", "Notes:", ""] + [f"- {n}" for n in self.notes]
        return "\n".join(out) + "\n"


def write_markdown(results: Results, path: Path, header: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(results.markdown(header), encoding="utf-8")
    temp.replace(path)
