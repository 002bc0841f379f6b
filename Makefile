# One command door for people and CI alike. Needs only Python 3.11+ and make.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
PY := .venv/bin/python
STACK := $(PY) -m labtrack.stack

.PHONY: install chromium run test lint bench bench-smoke services services-down services-status manage clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

# Creates .venv/ and makes it match uv.lock exactly (fast when nothing changed).
install: $(UV)
	$(UV) sync --frozen --quiet --python $(PYTHON)

## Start LabTrack: embedded PostgreSQL + Redis, migrations, demo data, web + worker + beat.
run: install
	$(STACK) run

# The browser tests drive Debian's Chromium (never a downloaded browser): installed with apt
# (as root, or through sudo) when it is missing.
CHROMIUM := /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## Run the whole test suite (uses DATABASE_URL / REDIS_URL when set, else embedded servers).
test: install chromium
	$(STACK) exec -- $(PY) -m pytest $(ARGS)

## Lint, format check, import contracts, types (engine, lab, project), missing-migrations check.
lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports
	$(STACK) exec -- .venv/bin/mypy workflows samples labtrack
	$(STACK) exec -- $(PY) manage.py makemigrations --check --dry-run

# Every bench, one process each, in a database of its own (<database>_bench); stops at the
# first that fails. BENCH_SIZE (full or small) sets their volumes.
define run-benches
	$(STACK) exec -- $(PY) -m tests.bench.workflows_bench
	$(STACK) exec -- $(PY) -m tests.bench.scan_bench
	$(STACK) exec -- $(PY) -m tests.bench.intake_bench
	$(STACK) exec -- $(PY) -m tests.bench.audit_bench
	$(STACK) exec -- $(PY) -m tests.bench.console_bench
	$(STACK) exec -- $(PY) -m tests.bench.mllp_bench
	$(STACK) exec -- $(PY) -m tests.bench.receipt_bench
	$(STACK) exec -- $(PY) -m tests.bench.qc_bench
endef

## Benchmarks: the workflow engine next to plain Celery (figures and ratios, no assertions).
bench: export BENCH_SIZE := full
bench: install
	$(run-benches)

## The same benches at small volumes, a few minutes in all: proves each still runs (CI).
bench-smoke: export BENCH_SIZE := small
bench-smoke: install
	$(run-benches)

## Embedded services for use from other terminals (make manage CMD="shell").
services: install
	$(STACK) up
services-down: install
	$(STACK) down
services-status: install
	$(STACK) status
manage: install
	$(STACK) exec -- $(PY) manage.py $(CMD)

clean:
	rm -rf .venv .tools staticfiles .pytest_cache .ruff_cache .mypy_cache
