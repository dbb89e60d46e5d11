# FSNet Lab: the two commands of the README, and the environment they share.
#   make run   - execute every notebook in SMOKE mode on the built-in data (creates .venv if missing)
#   make test  - lint and the whole test suite (creates .venv if missing)

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.fsnet-installed
# Every extra: the lab front end, notebook execution, V-SOD scores, DenseCRF, TensorBoard, the
# CPU engine and the test tools (pyproject.toml says which needs what; Colab installs the runtime
# alone).
EXTRAS := lab,run,vsod,crf,tensorboard,cpu-engine,dev

.PHONY: run test lint format env clean-env

env: $(STAMP)

# Re-install when the dependency list changes. torch and torchvision come
# from the registry together (their compiled ops must match).
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[$(EXTRAS)]"
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m fsnet_core run-all

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

clean-env:
	rm -rf $(VENV)
