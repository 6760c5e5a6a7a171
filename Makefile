# Two entry points for a fresh machine (see README "Quickstart"):
#   make demo   set up, start a local Kafka + the bridge + simulated CSM/FSM/ITSM, tell the story
#   make test   set up (Python packages, Kafka jars, PostgreSQL server), lint, format and type
#               check (ruff, mypy), and run the whole suite

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: setup lock kafka-jars system-packages demo lint test clean

setup: $(VENV)/.installed

# Exactly the versions of requirements-test.lock (hashes checked), then the project itself with
# no dependency resolution: the same set on every machine and in CI.
$(VENV)/.installed: pyproject.toml requirements-test.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements-test.lock
	# editable: the repository is on the path, so the development tools (bridgedev/: simulate,
	# demo, kafka) are importable; the wheel leaves them out
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Regenerate the lockfiles after a change to the dependencies in pyproject.toml (uv resolves
# for every platform, Python 3.11): requirements.lock is the image's, requirements-test.lock
# the developers' and CI's, requirements-build.lock the wheel's build backend (the image's).
LOCK = $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
       --custom-compile-command "make lock"
lock: setup
	$(LOCK) pyproject.toml -o requirements.lock
	$(LOCK) pyproject.toml --extra test --extra bench -o requirements-test.lock
	$(BIN)/python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")' \
	  | $(LOCK) - -o requirements-build.lock

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
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: setup lint kafka-jars system-packages
	$(BIN)/pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache .ruff_cache
