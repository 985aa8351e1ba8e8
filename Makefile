# Common commands. `make book` and `make test` each set up a fresh clone first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
AREA ?= E08000004
OUT ?= _build/site
JOBS ?= 2

.PHONY: setup browser test lint book clean

$(BIN)/mhbook: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

setup: $(BIN)/mhbook

# Browser tests and PDF export: Debian's chromium and chromedriver, and axe-core from npm
# (pinned by package-lock.json). Installs what is missing; where apt-get cannot run, the
# browser tests skip with a reason (and fail under CI).
browser: node_modules/axe-core/axe.min.js
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null \
	  || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; } \
	  || echo "make browser: could not install chromium and chromium-driver with apt-get" >&2

node_modules/axe-core/axe.min.js: package-lock.json
	@command -v npm >/dev/null \
	  || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	npm ci --no-audit --no-fund --silent
	touch $@

# Lint and format (tests/test_lint.py runs the same checks inside `make test`).
lint: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: setup browser
	$(BIN)/python -m pytest -n $(JOBS)

# The build prints where each area's site is (<OUT>/<area code>/index.html).
book: setup
	$(BIN)/mhbook build "$(AREA)" --out $(OUT)

# Data refresh: download every dataset from its source, check it, pin changed hashes
# (data/SHA256SUMS, or $$MHBOOK_HOME) only if all succeed, then rebuild only the pages that read them.
refresh: setup
	$(BIN)/mhbook data refresh
	$(BIN)/mhbook build --all --out $(OUT)

clean:
	rm -rf _build
