# The README's two commands: `make demo` and `make test`. Each sets up what it needs first
# (apt packages, .venv, caches under .cache/), idempotently.
SHELL := /bin/bash
VENV  := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: setup demo test lint sanity unit integration molecule build clean

setup:
	@scripts/setup.sh

demo: setup
	@scripts/demo.sh

test: setup
	@scripts/test.sh

# The gates one by one (scripts/test.sh runs them all).
lint: setup
	@scripts/test.sh lint
sanity: setup
	@scripts/test.sh sanity
unit: setup
	@scripts/test.sh unit
integration: setup
	@scripts/test.sh integration
molecule: setup
	@scripts/test.sh molecule

build: setup
	ansible-galaxy collection build --force --output-path .cache/build .

clean:
	-$(VENV)/bin/python scripts/testhosts.py down --all
	-$(VENV)/bin/python scripts/emulator.py stop
	rm -rf .cache/build .cache/sanity .cache/facts tests/output
