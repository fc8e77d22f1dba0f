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
	rm -rf $(VENV) .venv-bench $(DEMO_DIR) .pytest_cache .ruff_cache *.egg-info

# UCI benchmark against NGBoost and skpro (benchmarks/README.md). NGBoost needs
# scikit-learn < 1.7, so it runs in its own environment, .venv-bench.
BENCH_VENV ?= .venv-bench
BENCH_PY := $(BENCH_VENV)/bin/python
BENCH_STAMP := $(BENCH_VENV)/.skmdn-installed
BENCH_ARGS ?=

.PHONY: bench

$(BENCH_STAMP): pyproject.toml benchmarks/requirements-bench.txt
	test -x $(BENCH_PY) || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install --quiet --disable-pip-version-check -c benchmarks/requirements-bench.txt torch scikit-learn skorch numpy scipy pandas matplotlib ngboost skpro -e .
	touch $(BENCH_STAMP)

# The full protocol (every dataset, 20 splits, every model) takes days on 2
# cores; BENCH_ARGS="--datasets yacht --splits 2" is a quick run.
bench: $(BENCH_STAMP)
	$(BENCH_PY) benchmarks/uci.py $(BENCH_ARGS)
