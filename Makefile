# Two entry points for a fresh machine (see README "Quickstart"):
#   make demo   set up, start a local Kafka + the bridge + simulated CSM/FSM/ITSM, tell the story
#   make test   set up (Python packages, Kafka jars, PostgreSQL server), lint and type check
#               (ruff, mypy), and run the whole suite

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: setup kafka-jars system-packages demo lint test clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

kafka-jars: setup
	$(BIN)/bridge kafka fetch

# Debian packages the tests use: a PostgreSQL server (multi-instance and row-level-security
# tests; the tests start their own throwaway cluster) and Chromium (the status page test).
system-packages:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

demo: setup kafka-jars
	$(BIN)/bridge demo

# Lint and type check (configured in pyproject.toml): a few seconds, before anything slow.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

test: setup lint kafka-jars system-packages
	$(BIN)/pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache .ruff_cache
