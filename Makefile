# The two commands a newcomer needs: `make dev` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The deployment stage of make package / deploy / destroy.
STAGE ?= prod

.PHONY: dev test test-fast bench bench-exports package deploy destroy system-deps clean

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

## make fuzz: the long contract fuzz on a fresh dev stack: schemathesis over every route x every role, about 310 requests an operation, the checks of make test; BAOGONG_FUZZ_SEED=<n> repeats a run
.PHONY: fuzz
fuzz: $(STAMP)
	BAOGONG_FUZZ_PROBE=$${BAOGONG_FUZZ_PROBE:-10} BAOGONG_FUZZ_EXAMPLES=$${BAOGONG_FUZZ_EXAMPLES:-200} \
	BAOGONG_FUZZ_SEED=$${BAOGONG_FUZZ_SEED:-random} BAOGONG_FUZZ_REPORT=$${BAOGONG_FUZZ_REPORT:-.local/fuzz-report.json} \
		$(PY) -m pytest tests/stack/test_fuzz.py

## make bench: DynamoDB calls and units of every write route against the least, one order/pickup/poll item by item, API ÷ raw TransactWriteItems, app's cold import ÷ its deps', and the order path over HTTP (never asserted)
bench: $(STAMP)
	$(PY) -m bench.run

## make load: a surge on a fresh dev stack (2,000 households, 500 units, 50 residents in flight, same-key retries, double taps, claims, cancels); checks oversold/lost/duplicated against the table, exit 1 on a failure. LOAD_HOUSEHOLDS= LOAD_STOCK= LOAD_CONCURRENCY= LOAD_SEED=
.PHONY: load
load: $(STAMP)
	$(PY) -m bench.load

## make lighthouse: Lighthouse 12.2.3 (tools/lighthouse, npm ci) over every resident and volunteer screen of a fresh dev stack, signed in; median of 3 runs a screen; exits 1 below 95 (performance or accessibility). RUNS=
.PHONY: lighthouse
lighthouse: $(STAMP) tools/lighthouse/node_modules/.package-lock.json
	$(PY) -m scripts.lighthouse $(if $(RUNS),--runs $(RUNS))

tools/lighthouse/node_modules/.package-lock.json: tools/lighthouse/package.json tools/lighthouse/package-lock.json
	cd tools/lighthouse && npm ci --no-audit --no-fund

## make bench-exports: every export (picklist, packing, boxes, labels; csv, xlsx, pdf) at 1,000 and 10,000 orders through moto: time and peak memory (never asserted)
bench-exports: $(STAMP)
	$(PY) -m bench.exports

## make package STAGE=prod: the Lambda bundle and the final templates (build/package/app.json, data.json).
## api/ is copied into vendor/ first; infra/build.py writes the stage's merge template, infra/bytecode.py adds
## the compiled .pyc chalice leaves out (Lambda's /var/task is read-only: without them every cold start compiles
## every module), then infra/build.py turns chalice's SAM output plus infra/template.yaml into plain CloudFormation.
package: $(STAMP)
	rm -rf vendor && mkdir -p vendor && cp -r api vendor/api
	find vendor -name __pycache__ -prune -exec rm -rf {} +
	$(PY) -m infra.build merge --stage $(STAGE) build/merge-$(STAGE).json
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-cn-north-1} $(VENV)/bin/chalice package --stage $(STAGE) --merge-template build/merge-$(STAGE).json build/package
	$(PY) -m infra.bytecode build/package
	$(PY) -m infra.build combine --stage $(STAGE) build/package

## make deploy STAGE=prod: package, then both stacks, the PWA and (first time) the first admin, with boto3.
## Credentials and region come from the usual AWS settings (AWS_PROFILE / AWS_REGION); see README "Deploying".
## Options as variables: DOMAIN=, CERTIFICATE=, SUB_DISTRICT=, SMS=sns, ALARM_EMAIL=
deploy: package
	$(PY) -m scripts.deploy deploy --stage $(STAGE) \
		$(if $(DOMAIN),--domain "$(DOMAIN)") $(if $(CERTIFICATE),--certificate "$(CERTIFICATE)") \
		$(if $(SUB_DISTRICT),--sub-district "$(SUB_DISTRICT)") $(if $(SMS),--sms "$(SMS)") \
		$(if $(ALARM_EMAIL),--alarm-email "$(ALARM_EMAIL)")

## make destroy STAGE=prod: everything of the stage except the table (kept, with its data stack).
destroy: $(STAMP)
	$(PY) -m scripts.deploy destroy --stage $(STAGE) $(if $(YES),--yes)

clean:
	rm -rf $(VENV) vendor build .local .pytest_cache
