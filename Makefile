# Every target works on a fresh machine: it makes .venv and installs what it needs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: test demo demo-serve lint bench clean registry

# Editable in compat mode: a plain path in a .pth, so no import finder runs at every
# interpreter start (~15 ms); setuptools calls that mode transitional, hence the fallback.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]' --config-settings editable_mode=compat \
	  || $(PY) -m pip install -q -e '.[dev]'
	touch $@

# The real-registry tests need the CNCF distribution registry (Debian: docker-registry).
registry:
	@command -v docker-registry >/dev/null 2>&1 || { \
	  echo "docker-registry missing: installing it (apt-get install -y docker-registry)"; \
	  (apt-get update -qq && apt-get install -y -qq docker-registry) || { \
	    echo "could not install docker-registry: run 'sudo apt-get install -y docker-registry'"; exit 1; }; }

test: $(VENV)/.installed registry
	$(PY) -m pytest -q; rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest ran no tests: failing"; exit 1; fi; exit $$rc

demo: $(VENV)/.installed registry
	$(PY) -m devtools.demo

# The demo registries stay up (Ctrl-C stops them); `. .demo/env.sh` in another shell, then
# every command of the README runs as written.
demo-serve: $(VENV)/.installed registry
	$(PY) -m devtools.demo --serve

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check inspector tests devtools bench
	$(VENV)/bin/mypy --strict inspector

bench: $(VENV)/.installed registry
	$(PY) bench/run.py
	$(PY) bench/cost.py

clean:
	rm -rf $(VENV) build dist *.egg-info .demo .bench
