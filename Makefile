# dsalgo — every target bootstraps .venv with pip on first use, from a bare python3.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PYTEST_WORKERS ?= auto

.PHONY: all install test test-quick report report-quick lab bench soak lint clean browser-deps live live-deps

all: test

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,dask,live]"
	touch $(STAMP)

install: $(STAMP)

## make test: the whole test suite, docstring examples and notebooks (quick mode) included
test: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q --ignore=tests/live
	$(BIN)/python -m pytest -p no:xdist -q tests/live -m "live and not probabilistic"

## make test-quick: the same without the notebooks and the slow tests
test-quick: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q -m "not slow" --ignore=tests/test_notebooks.py

## make report: execute every notebook and write reports/index.html (about 10 minutes on
## 2 cores; each notebook's status and time is printed as it finishes)
report: $(STAMP)
	$(BIN)/python -m dsalgo report --out reports

report-quick: $(STAMP)
	$(BIN)/python -m dsalgo report --quick --out reports

## make browser-deps: Debian's headless chromium, for the test that opens a report offline
## (skipped without it outside CI; .ci/run installs it)
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	    echo "installing chromium (apt-get)"; \
	    apt-get update -qq && apt-get install -y -qq chromium; }

## make lab: JupyterLab on the notebooks
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

## make bench: every benchmark under benchmarks/, each prints its table
bench: $(STAMP)
	@for f in benchmarks/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

## make soak: 1,000+ faulty runs per algorithm, prints how many passed and what happened
soak: $(STAMP)
	$(BIN)/python -m dsalgo.soak
mutants: $(STAMP) ; $(BIN)/python tests/mutants  # the mutation suite: per family, caught by the checker (soak settings) and by explore.search

## make lint: ruff with the rules chosen in pyproject.toml (run by .ci/run)
lint: $(STAMP)
	$(BIN)/ruff check dsalgo tests benchmarks

## make live-deps: the real servers of dsalgo.live from Debian (as root)
live-deps:
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server etcd-server zookeeper default-jre-headless libfaketime nftables iproute2 util-linux

## make live: every live test against real servers, the probabilistic findings included
live: $(STAMP)
	$(BIN)/python -m pytest -p no:xdist -q -s tests/live

clean:
	rm -rf $(VENV) reports .pytest_cache .hypothesis
