"""The docs tell the truth about the code: every message docs/troubleshooting.md quotes is one
the code can print, and the README's commands and links exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TROUBLESHOOTING = PROJECT_ROOT / "docs" / "troubleshooting.md"
# what the docs write for the parts of a message that vary
PLACEHOLDER = re.compile(r"…|\.\.\.(?=\W|$)|<[^>]+>|\b(?:PATH|NAME|PHOTO|URL|WxH|N|M|X)\b")
HOLE = "\x00"  # where a code string has a formatted value
SEPARATOR = "\x01"  # between code strings
ARGPARSE = ("error: argument", "error: unrecognized arguments")  # argparse's own messages


def code_strings() -> str:
    """Every string literal of the code (f-strings with HOLE for their values), joined."""
    pieces = []
    files = [
        *(PROJECT_ROOT / "faceapp").rglob("*.py"),
        *(PROJECT_ROOT / "training").rglob("*.py"),
        PROJECT_ROOT / "main.py",
    ]
    for file in files:
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                pieces.append(node.value)
            elif isinstance(node, ast.JoinedStr):
                pieces.append(
                    "".join(v.value if isinstance(v, ast.Constant) else HOLE for v in node.values)
                )
    return SEPARATOR.join(pieces)


def quoted_messages() -> list[str]:
    """The `code` spans of the first column of every table row in troubleshooting.md."""
    messages = []
    for line in TROUBLESHOOTING.read_text(encoding="utf-8").splitlines():
        if line.startswith("| ") and not line.startswith(("| Message", "|---")):
            first_cell = line.split(" | ")[0]
            messages += re.findall(r"`([^`]+)`", first_cell)
    return messages


TOKEN = re.compile(r"\w+|[^\w\s]+")


def covered(fragment: str, corpus: str, most: int = 3) -> bool:
    """Whether ``fragment`` is made of at most ``most`` runs of words and punctuation, each
    found inside one code string (a message may be built from a few strings: "model file
    {path} is {reason}; train..." with "missing")."""
    bounds = [(m.start(), m.end()) for m in TOKEN.finditer(fragment)]
    start, runs = 0, 0
    while start < len(bounds):
        end = len(bounds)
        while end > start and fragment[bounds[start][0] : bounds[end - 1][1]] not in corpus:
            end -= 1
        if end == start:
            return False
        runs, start = runs + 1, end
    return runs <= most


MESSAGES = quoted_messages()


def test_troubleshooting_quotes_plenty_of_messages():
    assert len(MESSAGES) > 80


@pytest.fixture(scope="module")
def corpus() -> str:
    return code_strings()


@pytest.mark.parametrize("message", MESSAGES)
def test_every_quoted_message_is_one_the_code_prints(message, corpus):
    fragments = [f.strip(" :,;'\"") for f in PLACEHOLDER.split(message)]
    for fragment in fragments:
        if len(fragment) >= 4 and not message.startswith(ARGPARSE):
            assert covered(fragment, corpus), f"not in the code: {fragment!r} (of {message!r})"


def test_a_made_up_message_is_caught(corpus):
    assert not covered("the flux capacitor is out of alignment", corpus)


def test_the_readme_links_and_commands_exist():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for link in re.findall(r"\]\(([^)#]+)\)", readme):
        if not link.startswith("http"):
            assert (PROJECT_ROOT / link).exists(), link
    for module in set(re.findall(r"python -m ([\w.]+)", readme)):
        path = PROJECT_ROOT / Path(*module.split("."))
        assert path.with_suffix(".py").exists() or (path / "__main__.py").exists(), module
