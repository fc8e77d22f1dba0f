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

.PHONY: bench bench-full

$(BENCH_STAMP): pyproject.toml benchmarks/requirements-bench.txt
	test -x $(BENCH_PY) || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install --quiet --disable-pip-version-check -c benchmarks/requirements-bench.txt torch scikit-learn skorch numpy scipy pandas matplotlib ngboost skpro -e .
	touch $(BENCH_STAMP)

BENCH_OUT ?= benchmarks/results
BENCH_MODELS ?= --models mdn,mdn-ensemble,ngboost,skpro-mdn,gaussian-baseline,gp

# The reduced protocol of the committed results (benchmarks/results/): 3
# splits of the small datasets, 2 of the two large ones, about 1.5 hours on 2
# cores. bench-full runs every dataset, all 20 splits and every model
# (days on 2 cores); BENCH_ARGS="--datasets yacht --splits 2" narrows it.
bench: $(BENCH_STAMP)
	$(BENCH_PY) benchmarks/uci.py --datasets yacht,bostonHousing,energy,concrete,wine-quality-red --splits 3 $(BENCH_MODELS) --out $(BENCH_OUT)/small-datasets
	$(BENCH_PY) benchmarks/uci.py --datasets kin8nm,power-plant --splits 2 $(BENCH_MODELS) --include $(BENCH_OUT)/small-datasets/uci_results.csv --out $(BENCH_OUT)

bench-full: $(BENCH_STAMP)
	$(BENCH_PY) benchmarks/uci.py $(BENCH_ARGS)
