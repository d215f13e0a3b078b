# Gap Clinic. The README's two commands: `make lab` and `make test`.
# Python 3.11, 3.12 or 3.13; another interpreter: `make lab PYTHON=python3.12`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
SUPPORTED := 3.11 3.12 3.13
# Jupyter refuses root unless told; classroom laptops are not root, CI machines are.
# Only loopback may be reached while testing (the browser test's Jupyter server).
LAB_PORT ?= 8888
PYTEST_FLAGS ?= --nbval --nbval-current-env --nbval-cell-timeout=600 \
	--allow-hosts=127.0.0.1,::1,localhost --durations=15
# torch's CUDA runtime: PyPI's Linux torch pulls it in, the CPU wheel does not; left out of the locks (README).
CUDA_STACK := cuda-bindings cuda-pathfinder cuda-toolkit nvidia-cublas nvidia-cuda-cupti nvidia-cuda-nvrtc \
	nvidia-cuda-runtime nvidia-cudnn-cu13 nvidia-cufft nvidia-cufile nvidia-curand nvidia-cusolver nvidia-cusparse \
	nvidia-cusparselt-cu13 nvidia-nccl-cu13 nvidia-nvjitlink nvidia-nvshmem-cu13 nvidia-nvtx triton
UV ?= uv

.PHONY: install install-dev python-check check lab test test-fast test-robust test-matrix reference notebooks \
	lint bench clear-cache environment.yml lock colab-cells site student

# Before anything is downloaded: the interpreter must be 3.11-3.13, and a .venv made by another Python (or one
# whose interpreter is gone) is rebuilt. Plain shell, so a Python too old to run our code still gets the message.
python-check:
	@if [ -e $(VENV)/pyvenv.cfg ]; then \
	  have=$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo none); \
	  want=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo none); \
	  case " $(SUPPORTED) " in *" $$have "*) stale=no;; *) stale=yes;; esac; \
	  if [ "$(origin PYTHON)" = "command line" ] && [ "$$want" != "$$have" ]; then stale=yes; fi; \
	  if [ $$stale = yes ]; then \
	    if [ -L $(VENV) ]; then echo "make: $(VENV) (a link) was made by Python $$have, not $$want; remove or relink it by hand." >&2; exit 1; fi; \
	    echo "make: $(VENV) was made by Python $$have; removing it to rebuild it with $(PYTHON) (Python $$want)."; \
	    rm -rf $(VENV); \
	  fi; \
	fi
	@if [ ! -e $(VENV)/pyvenv.cfg ]; then \
	  v=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo none); \
	  case " $(SUPPORTED) " in *" $$v "*) ;; *) \
	    if [ $$v = none ]; then what="was not found"; else what="is Python $$v"; fi; \
	    found=$$(for p in python3.13 python3.12 python3.11; do $$p -c '' 2>/dev/null && command -v $$p; done | tr '\n' ' '); \
	    { echo "make: Gap Clinic needs Python 3.11, 3.12 or 3.13, and '$(PYTHON)' $$what. Nothing was downloaded."; \
	      if [ -n "$$found" ]; then echo "  Supported interpreters on this machine: $$found-> make PYTHON=<one of them>"; fi; \
	      echo "  To get one: Ubuntu 24.04 ships 3.12 (sudo apt install python3-venv); macOS: brew install python@3.13;"; \
	      echo "  Windows/macOS: the 3.13 installer from python.org; any system: uv python install 3.13, or pyenv install 3.13;"; \
	      echo "  conda: conda env create -f environment.yml. Then run make again with PYTHON=python3.13 (or the path)."; } >&2; \
	    exit 1;; \
	  esac; \
	fi

$(STAMP): requirements-student.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-student.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

# The developers' tools (pytest, nbval, Playwright, ruff) on top of the student install.
$(DEV_STAMP): $(STAMP) requirements.lock
	$(BIN)/python -m pip install -q -r requirements.lock
	touch $(DEV_STAMP)

# A sub-make, so that the stamps are looked at after python-check may have removed a stale .venv.
install: python-check
	@$(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) $(STAMP)

install-dev: python-check
	@$(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) $(DEV_STAMP)

# What the notebooks need, and what is wrong with it (python -m helpers.check does the same without make).
check: install
	$(BIN)/python -m helpers.check

lab: install
	$(BIN)/jupyter lab --notebook-dir=notebooks --ServerApp.ip=127.0.0.1 --ServerApp.port=$(LAB_PORT) --no-browser \
		$(if $(filter 0,$(shell id -u)),--allow-root)

test: install-dev
	$(BIN)/python -m helpers.reference --check
	$(BIN)/python -m pytest $(PYTEST_FLAGS)

# The inner loop: no training, no notebooks, no browser (under a minute).
test-fast: install-dev
	$(BIN)/python -m pytest -m "not slow and not browser" --allow-hosts=127.0.0.1,::1,localhost tests

# Another machine's numerics on this one: every test marked `here` (the claims' runs retrained on this machine),
# from an empty cache, with 1 thread and oneDNN off, so each claim is retrained as a different trajectory and must
# still hold. (The run cache keys on these settings too; the fresh cache also drops what an earlier robust run left.)
test-robust: install-dev
	mkdir -p artifacts
	cache=$$(mktemp -d); GAP_CLINIC_CACHE=$$cache GAP_CLINIC_THREADS=1 TF_ENABLE_ONEDNN_OPTS=0 \
		$(BIN)/python -m pytest -m here --allow-hosts=127.0.0.1,::1,localhost --junitxml=artifacts/robust.xml \
		-o "junit_suite_name=GAP_CLINIC_THREADS=1 TF_ENABLE_ONEDNN_OPTS=0" tests \
		; status=$$?; rm -rf $$cache; $(BIN)/python -m helpers.bench --matrix artifacts/robust.xml; exit $$status

# The numerics matrix: the `here` tests once per cell, each from an empty cache. The cells cover every value of
# every setting (threads 1 and 2; oneDNN off and on; TensorFlow's oneDNN capped at AVX2; torch's kernels at avx2
# and at the portable default) without the whole product; `make test` itself is the default cell. The AVX2 cap
# turns oneDNN on: TensorFlow leaves it off by default on CPUs without AVX-512, where the cap alone would
# change nothing (cell 4 would repeat cell 3); on an AVX-512 CPU oneDNN is on by default and the cap bites.
# MATRIX_TESTS picks tests, e.g. MATRIX_TESTS="tests/test_reading_curves.py"; MATRIX='"GAP_CLINIC_THREADS=1"' a cell.
MATRIX ?= "GAP_CLINIC_THREADS=1 TF_ENABLE_ONEDNN_OPTS=0" \
	"GAP_CLINIC_THREADS=1 TF_ENABLE_ONEDNN_OPTS=1" \
	"GAP_CLINIC_THREADS=2 TF_ENABLE_ONEDNN_OPTS=0" \
	"GAP_CLINIC_THREADS=2 TF_ENABLE_ONEDNN_OPTS=1 DNNL_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2" \
	"GAP_CLINIC_THREADS=2 ATEN_CPU_CAPABILITY=default"
MATRIX_TESTS ?= tests
test-matrix: install-dev
	mkdir -p artifacts; rm -f artifacts/matrix-*.xml
	status=0; for cell in $(MATRIX); do \
		echo "== numerics cell: $$cell"; cache=$$(mktemp -d); \
		env $$cell GAP_CLINIC_CACHE=$$cache $(BIN)/python -m pytest -q -m here --allow-hosts=127.0.0.1,::1,localhost \
			--junitxml="artifacts/matrix-$$(echo $$cell | tr ' =' '_-').xml" -o "junit_suite_name=$$cell" \
			$(MATRIX_TESTS) || status=1; \
		rm -rf $$cache; done; $(BIN)/python -m helpers.bench --matrix artifacts/matrix-*.xml; exit $$status

# Retrain the committed reference results (every claim's runs over runs.SEEDS), then the same runs under each
# numerics variant (reference.VARIANTS, seed 0; onednn for Keras cases only, threads2 not for numpy-only ones); CASES="03_tiny_dataset" for one. Current runs are kept.
reference: install-dev
	$(BIN)/python -m helpers.reference $(CASES)
	for v in $$($(BIN)/python -c 'from helpers.reference import VARIANTS; print(*VARIANTS)'); do \
		$(BIN)/python -m helpers.reference --variant $$v $(CASES) || exit 1; done

notebooks: install-dev
	for nb in notebooks/*.ipynb; do \
		$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
			--ExecutePreprocessor.timeout=600 "$$nb" || exit 1; done

lint: install-dev
	$(BIN)/ruff check helpers tests

# Measures every notebook cold and warm, widget latency, import time; writes BENCHMARKS.md.
bench: install-dev
	$(BIN)/python -m helpers.bench

# The course site from the committed notebooks, nothing executed: artifacts/site/index.html (INSTRUCTORS.md).
# STUDENT=1 builds it from the student copies (artifacts/site-student/); REPO=owner/name sets the Colab links.
site: install
	$(BIN)/python -m helpers.course.site $(if $(STUDENT),--student) $(if $(REPO),--repo $(REPO))

# Student copies of the notebooks, answers and solutions removed (not collapsed): artifacts/student/.
student: install
	$(BIN)/python -m helpers.course.student

clear-cache:
	rm -rf data/cache data/generated

# Regenerate environment.yml's pip section from the lock (a test keeps them equal).
environment.yml: requirements.lock
	{ echo "name: gap-clinic"; echo "channels:"; echo "  - conda-forge"; echo "dependencies:"; \
	  echo "  - python>=3.11,<3.14"; echo "  - pip"; echo "  - pip:"; \
	  grep -E '^[A-Za-z0-9]' requirements.lock | sed 's/^/      - /'; echo "      - -e ."; } > $@

# Case 04 in the poster's own library (Keras 2.2.4, TensorFlow 1.15, Python 3.7 from pyenv), in its own
# environment; not part of `make test`. Writes the committed data/period/keras22_case04.json that
# tests/test_case04_period.py reads (~2 CPU-minutes, plus the install the first time).
PERIOD_VENV := .venv-period
.PHONY: period
period:
	test -x $(PERIOD_VENV)/bin/python || "$$(ls -d "$$(pyenv root)"/versions/3.7* | tail -n 1)/bin/python" -m venv $(PERIOD_VENV)
	$(PERIOD_VENV)/bin/python -m pip install -q "keras==2.2.4" "tensorflow==1.15.5" "protobuf<3.21" "h5py<3"
	mkdir -p data/period
	$(PERIOD_VENV)/bin/python helpers/period/keras22_case04.py data/period/keras22_case04.json

# Re-resolve both locks for Python 3.11-3.13 on every platform (needs uv: pip install uv). Existing pins are kept
# where they still fit, so the committed references' library versions do not move unless requirements*.in asks.
lock:
	$(UV) pip compile -q --universal --python-version 3.11 $(addprefix --no-emit-package ,$(CUDA_STACK)) \
		requirements-dev.in -o requirements.lock
	$(UV) pip compile -q --universal --python-version 3.11 $(addprefix --no-emit-package ,$(CUDA_STACK)) \
		-c requirements.lock requirements.in -o requirements-student.lock
	$(MAKE) --no-print-directory -B environment.yml

# Insert or update each notebook's first cell (Colab setup, a no-op elsewhere) and its Open-in-Colab badge.
colab-cells:
	$(PYTHON) -m helpers.colab_cells notebooks/*.ipynb
