# Two commands on a fresh machine: `make run` starts the app, `make test` runs the tests.
# Both create the virtual environment in .venv and install what is missing first.
PYTHON_BIN ?= python3
VENV := .venv
PYTHON := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test install install-dev server train bench loadtest robustness clean

run: install
	$(PYTHON) -m streamlit run streamlit_app.py --server.port $(PORT)

test: install-dev
	$(PYTHON) -m pytest

server: install
	$(PYTHON) -m flask --app cnn.server run

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

$(VENV)/bin/python:
	$(PYTHON_BIN) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PYTHON) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(PYTHON) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Regenerate the shipped models and their metrics (about an hour on a 2-core CPU).
train: install
	$(PYTHON) -m cnn.train --model cnn --epochs 60 --out assets/
	$(PYTHON) -m cnn.train --model baseline --epochs 15 --out assets/
	$(PYTHON) -m cnn.train --model mlp --epochs 30 --out assets/
	$(PYTHON) -m cnn.data

# Measurements behind the README's numbers: run them on an otherwise idle machine.
bench: install-dev
	$(PYTHON) -m cnn.bench

loadtest: install
	$(PYTHON) -m bench.loadtest --threads 8 --requests 300

robustness: install
	$(PYTHON) -m cnn.robustness --count 1000

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
