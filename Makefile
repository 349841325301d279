# zerodesk: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
MOTO := $(VENV)/bin/moto_server

.PHONY: help run test venv browser outbox invoke lambda-tools fmt-check clippy unit infra-checks bench build-lambdas token

help:
	@echo "make run    - start the local stack (moto, fake directories, API on http://127.0.0.1:3000)"
	@echo "make test   - install what tests need, check formatting, clippy -D warnings, run every test, lint the template"
	@echo "make bench  - measure cold start, memory and binary size of every function"
	@echo "make outbox - list the messages the running local stack sent (verification links, notices)"
	@echo "make invoke FN=tickets EVENT=events/api-post-ticket.json - invoke one function of the running local stack with one event"
	@echo "make lambda-tools - install the pinned SAM CLI and cargo-lambda into .venv-tools/sam"

$(MOTO): infra/moto-requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r infra/moto-requirements.txt
	@touch $(MOTO)

venv: $(MOTO)

# The verification page is tested in a real headless browser: Debian's
# Chromium and ChromeDriver (root, or sudo, installs them once).
CHROMEDRIVER := /usr/bin/chromedriver
$(CHROMEDRIVER):
	$$( [ "$$(id -u)" = 0 ] || echo sudo ) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium chromium-driver \
	  || { $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -q && $$( [ "$$(id -u)" = 0 ] || echo sudo ) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium chromium-driver; }

browser: $(CHROMEDRIVER)

outbox:
	cargo run -q -p devstack -- outbox

# One function, one event, through the running stack (`make run` in another
# terminal): prints the answer, then the REPORT line.
invoke:
	@[ -n "$(FN)" ] && [ -n "$(EVENT)" ] || { echo "usage: make invoke FN=tickets EVENT=events/api-post-ticket.json"; exit 2; }
	cargo run -q -p devstack -- invoke $(FN) --event $(EVENT)

# `cargo lambda watch` / `invoke` and `sam local invoke`, pinned as the template checks pin them.
lambda-tools:
	bash -c 'source infra/checks/tools.sh && ensure_venv sam "$$checks/requirements.txt" "$$checks/constraints-sam.txt"'

run: venv
	cargo run -q -p devstack -- up

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

unit: venv browser
	cargo test --workspace

infra-checks:
	bash infra/checks/run.sh

test: venv browser fmt-check clippy infra-checks unit

bench:
	bash infra/bench/run.sh
