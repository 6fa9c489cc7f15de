# The two commands a newcomer needs: `make dev` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: dev test test-fast bench bench-exports package system-deps clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	# chalice shells out to pip to package and supports pip < 26.3 only.
	$(PY) -m pip install --quiet "pip>=24,<26.3"
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

## make dev: the whole local stack in one process (moto + API + PWA) on http://127.0.0.1:$${PORT:-8000}
dev: $(STAMP)
	$(PY) -m scripts.dev

system-deps:
	scripts/install-system-deps.sh

## make test: the whole suite, including the stack, concurrency and browser tests
test: $(STAMP) system-deps
	$(PY) -m pytest

## make test-fast: unit and API tests only (no dev stack, no browser)
test-fast: $(STAMP)
	$(PY) -m pytest tests/unit tests/api

## make bench: timings of the order path against a running-from-scratch dev stack (never asserted)
bench: $(STAMP)
	$(PY) -m bench.orders

## make bench-exports: every export (picklist, packing, boxes, labels; csv, xlsx, pdf) at 1,000 and 10,000 orders through moto: time and peak memory (never asserted)
bench-exports: $(STAMP)
	$(PY) -m bench.exports

## make package: the Lambda bundle via `chalice package`; api/ is copied into vendor/ first
package: $(STAMP)
	rm -rf vendor && mkdir -p vendor && cp -r api vendor/api
	find vendor -name __pycache__ -prune -exec rm -rf {} +
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-cn-north-1} $(VENV)/bin/chalice package --stage prod --merge-template infra/functions.json build/package

clean:
	rm -rf $(VENV) vendor build .local .pytest_cache
