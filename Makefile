# tinyrnn entry points. `make test` and `make demo` set themselves up.
PY      := .venv/bin/python
VENV    := .venv/.installed
NODEMOD := tools/node_modules/.installed
HEAP    ?= 65536
export PYTHONPATH := $(CURDIR)/tools:$(CURDIR)/lib

.PHONY: setup test test-fast examples demo deploy device-test tables check-tables sizes quant-error bench host-train torch-error mip clean vboard

setup: $(VENV) $(NODEMOD)

$(VENV): requirements-dev.txt
	@echo "setup: creating .venv with pinned host dependencies (requirements-dev.txt)"
	@test -x $(PY) || python3 -m venv .venv
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $@

$(NODEMOD): tools/package.json tools/package-lock.json
	@echo "setup: installing the pinned MicroPython WebAssembly build (tools/package-lock.json)"
	@cd tools && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The README's test command: host tests (pytest) then device tests on the MicroPython VM.
test: setup
	$(PY) tools/run_device_tests.py --heap $(HEAP)
	$(PY) -m pytest -q host_tests

# The same without the slow convergence tier (examples trained on the VM).
test-fast: setup
	$(PY) tools/run_device_tests.py --heap $(HEAP)
	$(PY) -m pytest -q -m "not slow" host_tests

# The examples, trained on the MicroPython VM under their heap caps, with their figures.
examples: setup
	$(PY) tools/run_example.py --all

device-test: setup
	$(PY) tools/run_device_tests.py --heap $(HEAP) $(if $(PORT),--port $(PORT))

tables: setup
	$(PY) tools/gen_tables.py --write

check-tables: setup
	$(PY) tools/gen_tables.py

bench: setup
	$(PY) tools/bench.py

sizes: setup
	$(PY) tools/sizes.py

quant-error: setup
	$(PY) tools/quant_error.py

# Train bigger models on the host in float64, write Q8.8 files, report the gap.
host-train: setup
	mkdir -p build && cd build && ../$(PY) ../tools/host_train.py --task all

# PyTorch float outputs vs the board's Q8.8 outputs after import.
torch-error: setup
	$(PY) tools/torch_import.py error

VBOARD_HEAP ?= 131072
# A virtual MicroPython board for mpremote; prints PORT=/dev/pts/N. Ctrl-C stops it.
vboard: setup
	$(PY) -m vboard --heap $(VBOARD_HEAP) $(if $(FS),--fs $(FS))

clean:
	rm -rf .venv tools/node_modules build .pytest_cache

# The main job: on the virtual board (or PORT=/dev/ttyACM0), deploy, train a GRU
# on the board, pull its weights back, check the NumPy mirror reproduces it bit for bit.
demo: setup
	$(PY) tools/demo.py $(if $(PORT),--port $(PORT))

# Compile lib/ to .mpy for the board and upload what changed (no PORT: the virtual board).
deploy: setup
	$(PY) tools/deploy.py $(if $(PORT),--port $(PORT)) $(if $(WEIGHTS),--weights $(WEIGHTS)) $(if $(APP),--app $(APP)) $(if $(DRY_RUN),--dry-run)

# Regenerate package.json (mpremote mip install) after adding or removing a lib module.
mip: setup
	$(PY) tools/gen_mip.py --write
