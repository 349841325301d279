# zerodesk: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
MOTO := $(VENV)/bin/moto_server

.PHONY: help run test venv fmt-check clippy unit infra-checks bench build-lambdas token

help:
	@echo "make run    - start the local stack (moto, fake directories, API on http://127.0.0.1:3000)"
	@echo "make test   - install what tests need, check formatting, clippy -D warnings, run every test, lint the template"
	@echo "make bench  - measure cold start, memory and binary size of every function"

$(MOTO): infra/moto-requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r infra/moto-requirements.txt
	@touch $(MOTO)

venv: $(MOTO)

run: venv
	cargo run -q -p devstack -- up

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

unit: venv
	cargo test --workspace

infra-checks:
	bash infra/checks/run.sh

test: venv fmt-check clippy infra-checks unit

bench:
	bash infra/bench/run.sh
