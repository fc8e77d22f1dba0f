# Two commands on a fresh machine: `make demo` and `make test`. Each creates
# the virtual environment in .venv on first use and reuses it afterwards;
# `make docs` adds the documentation's packages to it and builds the site.

PYTHON ?= python3
# One BLAS and OpenMP thread per process: on two shared cores their thread
# pools fight each other and slow small problems down many times over.
ONE_THREAD := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.skmdn-installed
DEMO_DIR ?= demo-output

.PHONY: demo test docs lint format install-check bench-overhead bench-quality clean

$(STAMP): pyproject.toml constraints.txt skmdn/_version.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test,plot]"
	touch $(STAMP)

# The site in docs/_build/html: every gallery example runs, and a warning
# fails the build. With CI set the examples train for fewer epochs.
DOCS_STAMP := $(VENV)/.skmdn-docs-installed
DOCS_OUT ?= docs/_build

$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[docs]"
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	$(ONE_THREAD) MPLBACKEND=Agg $(PY) -m sphinx -W --keep-going -b html docs $(DOCS_OUT)/html
	@echo "open $(DOCS_OUT)/html/index.html"

demo: $(STAMP)
	$(PY) examples/demo.py --output $(DEMO_DIR)

lint: $(STAMP)
	$(PY) -m ruff check skmdn tests benchmarks examples .ci docs/conf.py
	$(PY) -m ruff format --check skmdn tests benchmarks examples .ci docs/conf.py

test: lint
	$(PY) -m pytest -n 2 --dist loadfile

format: $(STAMP)
	$(PY) -m ruff format skmdn tests benchmarks examples .ci docs/conf.py
	$(PY) -m ruff check --fix skmdn tests benchmarks examples .ci docs/conf.py

# The skpro adapter (skmdn/skpro.py) and its tests, in their own environment:
# skpro 2.16 requires pandas < 3.1, so .venv-skpro has the pins of
# constraints.txt with the pandas of constraints-skpro.txt.
SKPRO_VENV ?= .venv-skpro
SKPRO_PY := $(SKPRO_VENV)/bin/python
SKPRO_STAMP := $(SKPRO_VENV)/.skmdn-installed

$(SKPRO_STAMP): pyproject.toml constraints.txt constraints-skpro.txt skmdn/_version.py
	test -x $(SKPRO_PY) || $(PYTHON) -m venv $(SKPRO_VENV)
	grep -v '^pandas==' constraints.txt | cat - constraints-skpro.txt > $(SKPRO_VENV)/constraints.txt
	$(SKPRO_PY) -m pip install --quiet --disable-pip-version-check -c $(SKPRO_VENV)/constraints.txt -e ".[test,skpro]"
	touch $(SKPRO_STAMP)

.PHONY: test-skpro
test-skpro: $(SKPRO_STAMP)
	$(SKPRO_PY) -m pytest -n 2 --dist loadfile tests/test_skpro.py skmdn/skpro.py

# A wheel of this checkout in a fresh virtual environment, with the
# dependency ranges only, as a user installs it (.ci/install-check).
install-check:
	PYTHON=$(PYTHON) bash .ci/install-check

bench-overhead: $(STAMP)
	$(PY) benchmarks/bench_overhead.py

bench-quality: $(STAMP)
	$(PY) benchmarks/bench_quality.py

clean:
	rm -rf $(VENV) .venv-bench $(SKPRO_VENV) $(DEMO_DIR) .pytest_cache .ruff_cache *.egg-info \
		$(DOCS_OUT) docs/generated docs/auto_examples docs/sg_execution_times.rst

# UCI benchmark against NGBoost and skpro (benchmarks/README.md). NGBoost needs
# scikit-learn < 1.7, so it runs in its own environment, .venv-bench.
BENCH_VENV ?= .venv-bench
BENCH_PY := $(BENCH_VENV)/bin/python
BENCH_STAMP := $(BENCH_VENV)/.skmdn-installed
BENCH_ARGS ?=

.PHONY: bench bench-full

$(BENCH_STAMP): pyproject.toml benchmarks/requirements-bench.txt
	test -x $(BENCH_PY) || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install --quiet --disable-pip-version-check -c benchmarks/requirements-bench.txt torch scikit-learn skorch numpy scipy pandas matplotlib ngboost skpro xgboost-distribution pgbm -e .
	touch $(BENCH_STAMP)

BENCH_OUT ?= benchmarks/results
BENCH_RUNS := $(BENCH_OUT)/runs
BENCH_PEERS := ngboost,xgb-distribution,pgbm,deep-ensemble,skpro-mdn,gaussian-baseline
# PGBM's recipe (up to 2000 trees, then a refit) takes about 4 minutes per
# split on kin8nm and power-plant here: it runs in its own targets,
# bench-large-pgbm (kin8nm, $(BENCH_LARGE_PGBM_SPLITS) splits) and
# bench-power-pgbm (power-plant, $(BENCH_POWER_PGBM_SPLITS) splits), beside
# each other in the second round.
BENCH_LARGE_PEERS := ngboost,xgb-distribution,deep-ensemble,skpro-mdn,gaussian-baseline
BENCH_SMALL := yacht,bostonHousing,energy,concrete
BENCH_GRID := wine-quality-red
BENCH_LARGE := kin8nm,power-plant
BENCH_LARGE_SPLITS ?= 20
BENCH_TUNED_SPLITS ?= 5
BENCH_GRID_SPLITS ?= 5
BENCH_LARGE_PGBM_SPLITS ?= 20
BENCH_POWER_PGBM_SPLITS ?= 20
# One single-threaded process per core: BLAS and OpenMP pools would otherwise
# fight over the two cores and inflate every fit time.
BENCH_ENV := $(ONE_THREAD)
BENCH_RUN = $(BENCH_ENV) $(BENCH_PY) benchmarks/uci.py --n-jobs 1 $(BENCH_ARGS)

# The committed results (benchmarks/results/), about 3 hours on 2 cores as
# two rounds of single-threaded processes, two at a time, then merged: every
# model on all 20 splits of the four small continuous sets (the exact GP too);
# the two large sets on $(BENCH_LARGE_SPLITS) splits, without the exact GP
# (O(n^3)) and with PGBM in its own targets (see above); the tuning recipe on the first $(BENCH_TUNED_SPLITS)
# splits of the small sets; wine (a target on a grid, fitted raw and
# dequantized) on its first $(BENCH_GRID_SPLITS). BENCH_ARGS=--resume
# continues an interrupted run. bench-full runs everything in one process;
# BENCH_ARGS="--datasets yacht --splits 2" narrows it.
bench: $(BENCH_STAMP)
	$(MAKE) -j2 bench-small bench-large
	$(MAKE) -j2 bench-small-tuned bench-grid bench-large-pgbm bench-power-pgbm
	$(BENCH_PY) benchmarks/uci.py --report-only --grid tiny \
		--include $(BENCH_RUNS)/small/uci_results.csv \
		--include $(BENCH_RUNS)/large/uci_results.csv \
		--include $(BENCH_RUNS)/small-tuned/uci_results.csv \
		--include $(BENCH_RUNS)/grid/uci_results.csv \
		--include $(BENCH_RUNS)/large-pgbm/uci_results.csv \
		--include $(BENCH_RUNS)/power-pgbm/uci_results.csv \
		--note "six runs, two at a time on the 2 cores (make -j2), each single-threaded: make bench" \
		--out $(BENCH_OUT)

.PHONY: bench-small bench-large bench-small-tuned bench-grid bench-large-pgbm bench-power-pgbm bench-large-tuned
bench-small: $(BENCH_STAMP)
	$(BENCH_RUN) --datasets $(BENCH_SMALL) --models mdn,mdn-ensemble,mdn-ensemble-yj,$(BENCH_PEERS),gp --out $(BENCH_RUNS)/small

bench-large: $(BENCH_STAMP)
	$(BENCH_RUN) --datasets $(BENCH_LARGE) --models mdn,mdn-ensemble,mdn-ensemble-yj,$(BENCH_LARGE_PEERS) --splits $(BENCH_LARGE_SPLITS) --out $(BENCH_RUNS)/large

bench-small-tuned: $(BENCH_STAMP)
	$(BENCH_RUN) --datasets $(BENCH_SMALL) --models mdn-tuned --grid tiny --splits $(BENCH_TUNED_SPLITS) --out $(BENCH_RUNS)/small-tuned

bench-grid: $(BENCH_STAMP)
	$(BENCH_RUN) --datasets $(BENCH_GRID) --models mdn,mdn-ensemble,mdn-ensemble-yj,$(BENCH_PEERS),gp --splits $(BENCH_GRID_SPLITS) --out $(BENCH_RUNS)/grid

bench-large-pgbm: $(BENCH_STAMP)
	$(BENCH_RUN) --datasets kin8nm --models pgbm --splits $(BENCH_LARGE_PGBM_SPLITS) --out $(BENCH_RUNS)/large-pgbm

bench-power-pgbm: $(BENCH_STAMP)
	$(BENCH_RUN) --datasets power-plant --models pgbm --splits $(BENCH_POWER_PGBM_SPLITS) --out $(BENCH_RUNS)/power-pgbm

# Not in the committed results: the tuning recipe on the large sets (13 fits
# per split, several minutes each there).
bench-large-tuned: $(BENCH_STAMP)
	$(BENCH_RUN) --datasets $(BENCH_LARGE) --models mdn-tuned --grid tiny --splits $(BENCH_TUNED_SPLITS) --out $(BENCH_RUNS)/large-tuned

# One default changed at a time, paired with the defaults on the same splits:
# every variant on splits 1-5 of the small sets, the promising ones confirmed
# on splits 6-20 (about 20 minutes each on one core;
# results/ablation-defaults.md puts the tables side by side).
# bench-ablation-large checks the candidates on 2 splits of the large sets.
ABLATION_CANDIDATES ?= n_components=3,n_components=8,weight_decay=1e-4
.PHONY: bench-ablation bench-ablation-large
bench-ablation: $(BENCH_STAMP)
	$(BENCH_ENV) $(BENCH_PY) benchmarks/ablation.py --splits 5 --out $(BENCH_RUNS)/ablation/select.md
	$(BENCH_ENV) $(BENCH_PY) benchmarks/ablation.py --first-split 5 --splits 15 --variants $(ABLATION_CANDIDATES) --out $(BENCH_RUNS)/ablation/confirm.md

bench-ablation-large: $(BENCH_STAMP)
	$(BENCH_ENV) $(BENCH_PY) benchmarks/ablation.py --datasets $(BENCH_LARGE) --splits 2 --variants $(ABLATION_CANDIDATES) --out $(BENCH_RUNS)/ablation/large.md

bench-full: $(BENCH_STAMP)
	$(BENCH_ENV) $(BENCH_PY) benchmarks/uci.py $(BENCH_ARGS)
