# faceapp: two commands do all set-up.
#   make run    create .venv, install everything, start the app   (ARGS="--camera video.mp4")
#   make test   create .venv, install everything, run the test suite
# Re-runs are fast: packages are reinstalled only when a requirements file changes.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SYSTEM_PACKAGES := xvfb xauth libgl1 libgl1-mesa-dri libmtdev1 pamtester
ARGS ?=

.PHONY: run test lint setup system-packages train benchmark screenshot mutation clean

run: setup
	$(PY) main.py $(ARGS)

test: setup
	$(PY) -m pytest $(ARGS)

# ruff (lint and format), mypy, and the import contracts in pyproject.toml (the window never
# imports TensorFlow; faceapp never imports training)
lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

setup: $(STAMP) system-packages

# The requirements, then faceapp itself, editable (no copies: the checkout is what runs), so
# that .venv/bin holds its commands: faceapp, faceapp-verify, faceapp-enrol, faceapp-config...
$(STAMP): requirements.txt requirements-dev.txt requirements-teacher.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --quiet --upgrade pip
	$(PY) -m pip install --quiet --quiet -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install --quiet --quiet --no-deps --no-build-isolation --editable .
	touch $(STAMP)

# Xvfb and Mesa let the GUI tests open a real Kivy window on a machine with no screen.
system-packages:
	@if command -v dpkg >/dev/null 2>&1 && ! dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		echo "installing $(SYSTEM_PACKAGES) (apt-get)"; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	fi

train: setup
	$(PY) -m training.run $(ARGS)

benchmark: setup
	$(PY) -m benchmarks $(ARGS)

screenshot: setup
	$(PY) scripts/screenshot.py $(ARGS)

# Mutation tests of the code that decides and stores ([tool.mutmut] in pyproject.toml; score,
# time and the explained survivors in docs/testing.md). Long: not part of `make test`.
mutation: setup
	rm -rf mutants
	$(VENV)/bin/mutmut run --max-children 2
	$(VENV)/bin/mutmut results

clean:
	rm -rf $(VENV) .pytest_cache mutants
