# Sagaline developer entry points. `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
STACK := deploy/local/stack.sh
PYTEST_ARGS ?=
DEMO_ARGS ?=
BENCH_ARGS ?=

.PHONY: install stack-up stack-down stack-status stack-logs demo test lint bench

install:  ## system packages, uv, the Python workspace (locked)
	@bash deploy/local/bootstrap.sh

stack-up: install
	@$(STACK) up

stack-down:
	@$(STACK) down

stack-status:
	@$(STACK) status

stack-logs:
	@$(STACK) logs

demo: stack-up  ## the main job
	@uv run --frozen python -m sagaline_demo $(DEMO_ARGS)

test: stack-up  ## the whole suite against the real local stack
	@uv run --frozen pytest $(PYTEST_ARGS)

lint: install
	@uv run --frozen ruff check .
	@uv run --frozen ruff format --check .
	@uv run --frozen mypy

bench: stack-up  ## saga vs raw Kafka throughput and latency (JSON + PNG in bench/results/)
	@uv run --frozen python -m bench $(BENCH_ARGS)
