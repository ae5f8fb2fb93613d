# The two commands: `make run` (set up and start everything) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Every step sees the port: the local settings point the links in e-mails at it (SITE_URL).
export PORT
export PIP_CONSTRAINT := $(CURDIR)/constraints.txt
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test bench bench-scale lint format typecheck install migrate demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt setuptools wheel
	$(BIN)/pip install --quiet --no-build-isolation -c constraints.txt -e ".[dev]"
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo_data

run: demo
	$(BIN)/python scripts/run_local.py

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m scripts.bench

# Figures at N orders (default 1,000,000) on the PostgreSQL server DATABASE_URL names, in a
# database of its own (<name>_bench_scale_<N>) kept for the next run: `N=1000 make bench-scale`.
N ?= 1000000
bench-scale: install
	$(BIN)/python -m scripts.bench_scale --orders $(N)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy .

clean:
	rm -rf $(VENV) var
