# Common commands. `make book` and `make test` each set up a fresh clone first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
AREA ?= E08000004
OUT ?= _build/site
JOBS ?= 2

.PHONY: setup test book clean

$(BIN)/mhbook: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

setup: $(BIN)/mhbook

test: setup
	$(BIN)/python -m pytest -n $(JOBS)

book: setup
	$(BIN)/mhbook build $(AREA) --out $(OUT)
	@echo "Site: $(OUT)/$(AREA)/index.html"

clean:
	rm -rf _build
