# Two commands on a fresh machine: `make run` starts the app, `make test` runs the tests.
# Both create the virtual environment in .venv and install what is missing first.
# requirements.txt is the app's and the server's (no TensorFlow); requirements-train.txt adds
# training and export; requirements-dev.txt adds the test tools.
PYTHON_BIN ?= python3
VENV := .venv
PYTHON := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test test-fast lint format install install-train install-dev server train bench loadtest robustness doodles fuzz accessibility playground report clean

run: install
	$(PYTHON) -m streamlit run streamlit_app.py --server.port $(PORT)

# Lint first: a style or type error fails CI before the long tests start.
test: lint
	$(PYTHON) -m pytest

# The unit tests: no browser, no training, no subprocess-heavy checks.
test-fast: install-dev
	$(PYTHON) -m pytest -m "not slow"

# ruff's lint rules and formatting, and mypy over cnn/ (settings in pyproject.toml).
lint: install-dev
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy

# Apply ruff's fixes and formatting.
format: install-dev
	$(PYTHON) -m ruff check --fix .
	$(PYTHON) -m ruff format .

server: install
	$(PYTHON) -m flask --app cnn.server run

install: $(VENV)/.installed

install-train: $(VENV)/.installed-train

install-dev: $(VENV)/.installed-dev

$(VENV)/bin/python:
	$(PYTHON_BIN) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PYTHON) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-train: requirements-train.txt $(VENV)/.installed
	$(PYTHON) -m pip install --quiet -r requirements-train.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed-train
	$(PYTHON) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Regenerate the shipped models and their metrics, epochs from the model registry (cnn/registry.py):
# about two hours on a 2-core CPU.
train: install-train
	$(PYTHON) -m cnn.registry | while read model epochs; do \
		$(PYTHON) -m cnn.train --model $$model --epochs $$epochs --out assets/ || exit 1; done
	$(PYTHON) -m cnn.data --playground-subset

# Measurements behind the README's numbers: run them on an otherwise idle machine.
bench: install-dev
	$(PYTHON) -m bench.speed

loadtest: install-dev
	$(PYTHON) -m bench.loadtest --threads 8 --requests 300
	$(PYTHON) -m bench.loadtest --photos --threads 8 --requests 250 --out assets/loadtest_photos.json

robustness: install-dev
	$(PYTHON) -m bench.robustness --count 1000

doodles: install-dev
	$(PYTHON) -m bench.real_doodles
	$(PYTHON) -m bench.drawn_doodles

# Damaged files of every accepted format through predict() for a minute: outcomes by kind, the slowest input.
fuzz: install-dev
	$(PYTHON) -m bench.fuzz --seconds 60

# axe-core (WCAG 2.1 AA) over every page on a desktop and a phone.
accessibility: install-dev
	$(PYTHON) -m bench.accessibility

# The Playground: every preset's speed and scores, time to 85%, memory, 8 sessions drawing while one run trains.
playground: install-dev
	$(PYTHON) -m bench.playground

# docs/performance.md and the README's figures, from the reports the three targets above write.
report: install-dev
	$(PYTHON) -m bench.report

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
