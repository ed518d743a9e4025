# Dialogrum: `make run` serves the app, `make test` runs the whole suite. Both set up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := shared/static/vendor
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=
# Test files run on two workers (pytest-xdist, whole files per worker so that a module's server is
# started once): most of the suite waits on servers, browsers and databases, not on a core.
PYTEST_WORKERS ?= 2
# `make test` ends with the 15 slowest tests (--durations), to keep the suite's time in view.
DIST ?= dist

.PHONY: setup run test lint browsers nginx translations bench soak flaky cluster room-traffic mutation coverage wheel clean

setup: $(STAMP) node_modules/.package-lock.json $(VENDOR)/socket.io.min.js translations
	@$(BIN)/dialogrum db upgrade

# Reinstall only when the dependency list changed, so a second `make setup` is fast.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(VENDOR)/socket.io.min.js: node_modules/.package-lock.json
	@mkdir -p $(VENDOR)
	cp node_modules/socket.io-client/dist/socket.io.min.js $(VENDOR)/socket.io.min.js

translations: $(STAMP)
	@if ls shared/translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel compile -f -d shared/translations >/dev/null; fi

# `make run LAN=1`: a laptop in a hall, reachable from the phones on its Wi-Fi (README).
run: setup
	$(BIN)/dialogrum serve --host $(HOST) --port $(PORT)$(if $(filter 1 yes true,$(LAN)), --lan)

# The system's Chromium drives the browser tests (never a downloaded browser build).
browsers:
	@command -v chromium >/dev/null 2>&1 || ./scripts/ensure-chromium.sh

# nginx from the system's packages: tests/deploy/test_nginx.py runs deploy/nginx.conf itself.
nginx:
	@test -x /usr/sbin/nginx || command -v nginx >/dev/null 2>&1 || ./scripts/ensure-nginx.sh

lint: setup
	$(BIN)/ruff check .

test: setup browsers nginx lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=15 $(PYTEST_ARGS)

# The wheel an operator installs (docs/deploy.md): the built Socket.IO client, the compiled
# catalogues and the migrations inside, so installing it needs neither Node.js nor a checkout.
# Built from the sdist (python -m build), so a file the sdist lacks is missing from the wheel too.
wheel: $(STAMP) $(VENDOR)/socket.io.min.js translations
	@rm -f $(DIST)/dialogrum-*
	$(BIN)/python -m build --outdir $(DIST) . >/dev/null
	@ls -1 $(DIST)/dialogrum-*.whl

bench: setup
	$(BIN)/python bench/vote_burst.py

# 300 phones join, vote, comment and leave for 10 minutes: memory, errors, exact counts.
soak: setup
	$(BIN)/python bench/soak.py $(BENCH_ARGS)

# 100 phones vote while their network drops and returns: back within 3 s, no vote lost.
flaky: setup
	$(BIN)/python bench/flaky.py $(BENCH_ARGS)

# Four processes behind nginx on PostgreSQL + Redis, 2,000 phones (docs/deploy.md#sizing).
cluster: setup nginx
	$(BIN)/python bench/cluster.py $(BENCH_ARGS)

# What the projector and a phone receive with 1,000 phones, results shown, comments flowing.
room-traffic: setup
	$(BIN)/python bench/room_traffic.py $(BENCH_ARGS)

# Branch coverage per module, the `dialogrum serve` processes the tests start included.
coverage: setup browsers
	@rm -rf .coverage-data && mkdir -p .coverage-data
	$(BIN)/coverage run -m pytest $(PYTEST_ARGS)
	@$(BIN)/coverage combine -q
	$(BIN)/coverage report --sort=cover

# Break one meeting rule at a time (on a copy of the tree) and check that its tests notice.
mutation: setup
	$(BIN)/python scripts/mutation_check.py

clean:
	rm -rf $(VENV) node_modules $(VENDOR) .pytest_cache .coverage-data build dist
