# Gap Clinic. The README's two commands: `make lab` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Jupyter refuses root unless told; classroom laptops are not root, CI machines are.
# Only loopback may be reached while testing (the browser test's Jupyter server).
LAB_PORT ?= 8888
PYTEST_FLAGS ?= --nbval --nbval-current-env --nbval-cell-timeout=600 \
	--allow-hosts=127.0.0.1,::1,localhost --durations=15

.PHONY: install lab test test-fast test-robust test-matrix reference notebooks lint bench clear-cache environment.yml site student

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

lab: install
	$(BIN)/jupyter lab --notebook-dir=notebooks --ServerApp.ip=127.0.0.1 --ServerApp.port=$(LAB_PORT) --no-browser \
		$(if $(filter 0,$(shell id -u)),--allow-root)

test: install
	$(BIN)/python -m helpers.reference --check
	$(BIN)/python -m pytest $(PYTEST_FLAGS)

# The inner loop: no training, no notebooks, no browser (under a minute).
test-fast: install
	$(BIN)/python -m pytest -m "not slow and not browser" --allow-hosts=127.0.0.1,::1,localhost tests

# Another machine's numerics on this one: every test marked `here` (the claims' runs retrained on this machine),
# from an empty cache, with 1 thread and oneDNN off, so each claim is retrained as a different trajectory and must
# still hold. (The run cache keys on these settings too; the fresh cache also drops what an earlier robust run left.)
test-robust: install
	mkdir -p artifacts
	cache=$$(mktemp -d); GAP_CLINIC_CACHE=$$cache GAP_CLINIC_THREADS=1 TF_ENABLE_ONEDNN_OPTS=0 \
		$(BIN)/python -m pytest -m here --allow-hosts=127.0.0.1,::1,localhost --junitxml=artifacts/robust.xml tests \
		; status=$$?; rm -rf $$cache; $(BIN)/python -m helpers.bench --robust artifacts/robust.xml; exit $$status

# The numerics matrix: the `here` tests once per cell, each from an empty cache. The cells cover every value of
# every setting (threads 1 and 2; oneDNN off and on; TensorFlow's oneDNN capped at AVX2; torch's kernels at avx2
# and at the portable default) without the whole product; `make test` itself is the default cell.
# MATRIX_TESTS picks tests, e.g. MATRIX_TESTS="tests/test_reading_curves.py"; MATRIX='"GAP_CLINIC_THREADS=1"' a cell.
MATRIX ?= "GAP_CLINIC_THREADS=1 TF_ENABLE_ONEDNN_OPTS=0" \
	"GAP_CLINIC_THREADS=1 TF_ENABLE_ONEDNN_OPTS=1" \
	"GAP_CLINIC_THREADS=2 TF_ENABLE_ONEDNN_OPTS=0" \
	"GAP_CLINIC_THREADS=2 DNNL_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2" \
	"GAP_CLINIC_THREADS=2 ATEN_CPU_CAPABILITY=default"
MATRIX_TESTS ?= tests
test-matrix: install
	mkdir -p artifacts
	status=0; for cell in $(MATRIX); do \
		echo "== numerics cell: $$cell"; cache=$$(mktemp -d); \
		env $$cell GAP_CLINIC_CACHE=$$cache $(BIN)/python -m pytest -q -m here --allow-hosts=127.0.0.1,::1,localhost \
			--junitxml="artifacts/matrix-$$(echo $$cell | tr ' =' '_-').xml" $(MATRIX_TESTS) || status=1; \
		rm -rf $$cache; done; exit $$status

# Retrain the committed reference results (every claim's runs over runs.SEEDS); CASES="03_tiny_dataset" for one.
reference: install
	$(BIN)/python -m helpers.reference $(CASES)

notebooks: install
	for nb in notebooks/*.ipynb; do \
		$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
			--ExecutePreprocessor.timeout=600 "$$nb" || exit 1; done

lint: install
	$(BIN)/ruff check helpers tests

# Measures every notebook cold and warm, widget latency, import time; writes BENCHMARKS.md.
bench: install
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
	  echo "  - python=3.11"; echo "  - pip"; echo "  - pip:"; \
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
