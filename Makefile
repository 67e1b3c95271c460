# ocplab: make targets for a fresh Debian 12 machine (run as root for the simulated lab).
SHELL := /bin/bash
PY := .venv/bin/python
VENV_STAMP := .venv/.installed-$(shell cat pyproject.toml uv.lock | sha256sum | cut -c1-12)
# uv, pinned in pyproject.toml's dev group: it installs uv.lock, and the language host lists packages with it.
UV_PIN := $(shell grep -o '"uv==[0-9.]*"' pyproject.toml | tr -d '"')

.PHONY: deps venv engine registry image simlab-up simlab-down simlab-shell demo check test clean

## deps: Debian packages the simulated lab, the guest image and the tests need
deps:
	bash scripts/install-deps.sh

## venv: the project's virtualenv, exactly uv.lock (uv itself included, for the language host), bytecode compiled
## (every `pulumi` run imports the SDK, pydantic and the providers' SDKs: compiled once, not per run)
venv: $(VENV_STAMP)
$(VENV_STAMP): pyproject.toml uv.lock
	test -x .venv/bin/python || python3 -m venv .venv
	test -x .venv/bin/uv || .venv/bin/pip install -q $(UV_PIN)
	UV_PYTHON_DOWNLOADS=never .venv/bin/uv sync --frozen --quiet --compile-bytecode
	rm -f .venv/.installed-* && touch $@

## engine: Pulumi CLI + Python language host in .engine/bin, libvirt and command plugins in .pulumi-home, and the
## mirror registry
engine: registry
	bash engine/build.sh

## registry: the mirror registry the lab stack copies to jumphosts (ocplab:mirror.registry: bundled), in
## .engine/registry (about two minutes cold, with Go; nothing to do once made)
registry:
	bash engine/registry.sh

## image: the small bootable guest image in .simlab/cache
image: deps venv
	$(PY) -m simlab.guest build

simlab-up: venv
	$(PY) -m simlab up

simlab-down: venv
	$(PY) -m simlab down

simlab-shell: venv
	$(PY) -m simlab shell

## demo: the main job: simulated lab up, example lab and cluster stacks deployed, outputs printed
demo: deps venv image engine
	$(PY) -m ocplab_demo

## check: lint, types and unit tests without the simulated lab (about a minute)
check: venv registry
	.venv/bin/ruff check .
	.venv/bin/mypy .
	.venv/bin/lint-imports
	shellcheck -s sh renderers/files/*.sh
	.venv/bin/python -m pytest -q tests/unit

## test: everything, the simulated lab included (root)
test: deps venv image engine
	.venv/bin/ruff check .
	.venv/bin/mypy .
	.venv/bin/lint-imports
	shellcheck -s sh renderers/files/*.sh
	OCPLAB_FUZZ=full .venv/bin/python -m pytest -q -p no:cacheprovider tests

clean: simlab-down
	rm -rf .engine/build

## bench: benchmarks on a simulated lab of 10 hypervisors (root; not part of `make test`); writes bench/results/
.PHONY: bench
bench: deps venv image engine
	$(PY) -m bench $(BENCH_ARGS)
