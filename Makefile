# Guichet — ticketing as installable Tryton modules.
# `make demo` and `make test` work on a fresh machine with Python 3.11+, pip,
# npm and access to the package registries.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# test processes of `make test`, each with its own PostgreSQL (tools/runtests.py -j)
TEST_JOBS ?= 2
STAMP := $(VENV)/.guichet-installed
SAO := sao/node_modules/tryton-sao
DEMO_DB ?= guichet_demo

.PHONY: all build demo demo-reset stop test bench serve pg-start

all: build

# a new addon (its tryton.cfg) needs a new entry point: reinstall
$(STAMP): pyproject.toml setup.py $(wildcard addons/*/tryton.cfg)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

$(SAO)/.guichet-installed: sao/package.json
	cd sao && npm install --no-audit --no-fund --loglevel=error
	# sao's index.html loads its libraries from its own node_modules
	ln -sfn .. $(SAO)/node_modules
	touch $@

build: $(STAMP) $(SAO)/.guichet-installed

pg-start: $(STAMP)
	$(PY) tools/pgctl.py start

demo: build pg-start
	$(PY) tools/demo.py $(DEMO_DB)
	$(PY) tools/serve.py start $(DEMO_DB)
	@$(PY) tools/demo.py --banner $(DEMO_DB)

demo-reset: build
	$(PY) tools/serve.py stop
	$(PY) tools/pgctl.py start
	$(PY) tools/demo.py --reset $(DEMO_DB)
	$(PY) tools/serve.py start $(DEMO_DB)
	@$(PY) tools/demo.py --banner $(DEMO_DB)

stop:
	-$(PY) tools/serve.py stop
	-$(PY) tools/pgctl.py stop

test: build
	$(PY) tools/runtests.py -j $(TEST_JOBS)

bench: build
	$(PY) bench/holds.py

# Production processes without Docker (docker/compose.yaml runs the same):
# gunicorn with GUICHET_APP_WORKERS processes, trytond-cron, trytond-worker
.PHONY: serve-prod stop-prod backup restore

serve-prod: build pg-start
	$(PY) tools/demo.py $(DEMO_DB)
	$(PY) tools/serve_prod.py start $(DEMO_DB)

stop-prod:
	-$(PY) tools/serve_prod.py stop

# make backup [DB=...]; make restore BACKUP=var/backups/<dir> [DB=<target>]
backup: build pg-start
	$(PY) tools/backup.py backup $(or $(DB),$(DEMO_DB))

restore: build pg-start
	$(PY) tools/backup.py restore $(BACKUP) $(DB)
