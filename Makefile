# Two commands on a fresh machine: `make demo` and `make test`. Each creates
# the virtual environment in .venv on first use and reuses it afterwards.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.skmdn-installed
DEMO_DIR ?= demo-output

.PHONY: demo test lint format bench-overhead bench-quality clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test,plot]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) examples/demo.py --output $(DEMO_DIR)

lint: $(STAMP)
	$(PY) -m ruff check skmdn tests benchmarks examples
	$(PY) -m ruff format --check skmdn tests benchmarks examples

test: lint
	$(PY) -m pytest -n 2 --dist loadfile

format: $(STAMP)
	$(PY) -m ruff format skmdn tests benchmarks examples
	$(PY) -m ruff check --fix skmdn tests benchmarks examples

bench-overhead: $(STAMP)
	$(PY) benchmarks/bench_overhead.py

bench-quality: $(STAMP)
	$(PY) benchmarks/bench_quality.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .ruff_cache *.egg-info
