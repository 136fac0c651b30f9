# The suite's entry points. `make help` lists them.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON_PREFERENCE := only-system
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
SERVICES := incident change config supplier reporting notify

.PHONY: help bootstrap install up test lint typecheck arch migrations-check pytest fmt catalogue authorization bench bench-smoke mutation fuzz replicas notify-replicas

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

bootstrap: ## install uv with pip when it is missing (uses this machine's Python 3.11)
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv

install: bootstrap ## create .venv from uv.lock, compiled to bytecode
	$(UV) sync --frozen --compile-bytecode
	@# Where PYTHONDONTWRITEBYTECODE is set, nothing caches bytecode: every process the tests start
	@# would compile the suite's sources again, seconds of CPU each.
	$(UV) run python -m compileall -q -j 0 shared services itsm bench tests

up: install ## run the whole suite on this machine (SQLite under ./var/, RabbitMQ from ITSM_AMQP_URL)
	$(UV) run itsm up

test: install lint typecheck arch migrations-check pytest ## everything CI checks

lint: ## ruff lint and format check
	$(UV) run ruff check .
	$(UV) run ruff format --check .

fmt: ## apply ruff fixes and formatting
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

typecheck: ## mypy (strict on shared/ and the domain modules)
	$(UV) run mypy

arch: ## import-linter: services stay independent, domains stay pure
	$(UV) run lint-imports

migrations-check: ## every service's migrations match its tables (on a scratch SQLite file)
	@tmp=$$(mktemp -d); for s in $(SERVICES); do \
	  $(UV) run python -c "from shared.migrations import upgrade, check; u='sqlite+aiosqlite:///$$tmp/$$s.db'; upgrade('$$s', u); check('$$s', u)" || exit 1; \
	done; rm -rf $$tmp

pytest: ## the test suite (needs ITSM_TEST_DATABASE_URL and ITSM_TEST_AMQP_URL, or Docker)
	$(UV) run pytest

fuzz: install ## every service's API fuzzed from its OpenAPI document, longer than in `make pytest` (FUZZ_EXAMPLES, FUZZ_SEED; docs/fuzzing.md)
	$(UV) run python -m tests.fuzz.run --examples $(or $(FUZZ_EXAMPLES),100)

catalogue: ## regenerate the README's event catalogue, docs/schemas/ and docs/asyncapi.{json,md} from the event contracts
	$(UV) run python -m itsm.catalogue

authorization: ## regenerate docs/authorization.md from the services' authorisation tables
	$(UV) run python -m itsm.authorization

bench: install ## incident create: suite vs baseline in the same run, every target met or missed (bench/README.md)
	$(UV) run python -m bench.create_incident

bench-smoke: install ## every bench in bench/ for a few seconds, every correctness check, no timing judged
	$(UV) run python -m bench --smoke

replicas: install ## every service as 2 APIs + 2 workers on PostgreSQL under load, each process restarted in turn; prints the counts (REPLICAS_USERS, REPLICAS_DURATION, REPLICAS_RESTART=one-of-each, REPLICAS_TOGETHER=1; docs/operations.md)
	$(UV) run python -m tests.replica_load --users $(or $(REPLICAS_USERS),6) --duration $(or $(REPLICAS_DURATION),120) $(if $(filter one-of-each,$(REPLICAS_RESTART)),--restart-one-of-each) $(if $(REPLICAS_TOGETHER),--restart-together)

notify-replicas: install ## 1,000 events through two notify worker processes: each e-mail and webhook exactly once (NOTIFY_REPLICA_EVENTS; docs/notifications.md)
	NOTIFY_REPLICA_EVENTS=$(or $(NOTIFY_REPLICA_EVENTS),1000) $(UV) run pytest tests/notify/integration/test_notifier_replicas.py -q --durations=1

mutation: install ## mutation score per domain module, into docs/mutation.md (slow; MODULES=... narrows)
	$(UV) run python -m bench.mutation --jobs $(or $(MUTATION_JOBS),2) $(MODULES)
