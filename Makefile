# The two commands of the README. Both work on a fresh clone: they create .venv when missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-test
DEMO_STAMP := $(VENV)/.installed-demo
DOCS_STAMP := $(VENV)/.installed-docs

.PHONY: demo test bench api-coverage sweep suites clean docs docs-serve docs-screenshot chromium

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# torch==2.13.0 (CPU) is a test dependency: pip takes it from a file already on these machines.
# The suite includes the documentation site's test (tests/test_docs_site.py), so `make test`
# installs the docs extra too, and Chromium (below) for its browser checks.
$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e ".[test,docs]"
	touch $(STAMP) $(DOCS_STAMP)

# The demo needs scikit-learn (the digits) and matplotlib (the figures), never torch.
$(DEMO_STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e ".[datasets,viz]"
	touch $(DEMO_STAMP)

# First the XOR demo (one second: perceptron fails, the AND/OR net and an MLP solve it), then
# the main job: `chainrule train` with its defaults (a LeNet-style CNN on the 8x8 digits, Adam),
# about 5 s on 2 idle cores, printing the test metrics (accuracy >= 97%), writing runs/<stamp>/.
demo: $(DEMO_STAMP)
	$(PY) -m chainrule demo xor --fast --out runs/demo-figures
	$(PY) -m chainrule train

test: $(STAMP) chromium
	$(PY) -m pytest -x -q -p no:cacheprovider

bench: $(STAMP)
	$(PY) benchmarks/run.py
	$(PY) benchmarks/forward_vs_reverse.py
	$(PY) benchmarks/determinism.py
	$(PY) benchmarks/allreduce_bandwidth.py
	$(PY) benchmarks/ddp_scaling.py
	$(PY) benchmarks/compile_onnxruntime.py
	$(PY) benchmarks/recurrent.py

# The table of torch's names chainrule has (docs/api-coverage.md); not a timed test.
api-coverage: $(STAMP)
	$(PY) tools/api_coverage.py

# torch's own test databases (OpInfo, ModuleInfo, optim_db) through chainrule: a report of
# where it differs from torch (tools/opinfo_sweep.py; torch's testing package needs expecttest).
sweep: $(STAMP)
	$(PY) -m pip install --quiet expecttest
	$(PY) tools/opinfo_sweep.py
	$(PY) tools/opinfo_sweep.py --modules
	$(PY) tools/opinfo_sweep.py --optimizers

# Other projects' op suites and scripts through chainrule, as reports: torch-mlir's
# end-to-end cases (tools/mlir_suite.py), tinygrad's test_ops (tools/tinygrad_ops.py), nanoGPT
# and minGPT run unchanged (tools/gpt_scripts.py), cloned into .suites/.
suites: $(STAMP)
	test -d .suites/torch-mlir || git clone -q --depth 1 https://github.com/llvm/torch-mlir .suites/torch-mlir
	test -d .suites/tinygrad || git clone -q --depth 1 https://github.com/tinygrad/tinygrad .suites/tinygrad
	test -d .suites/nanoGPT || git clone -q --depth 1 https://github.com/karpathy/nanoGPT .suites/nanoGPT
	test -d .suites/minGPT || git clone -q --depth 1 https://github.com/karpathy/minGPT .suites/minGPT
	$(PY) -W ignore tools/mlir_suite.py .suites/torch-mlir/projects/pt1/python/torch_mlir_e2e_test/test_suite --grad
	$(PY) -W ignore tools/tinygrad_ops.py .suites/tinygrad/test/backend/test_ops.py
	$(PY) tools/gpt_scripts.py --nanogpt .suites/nanoGPT --mingpt .suites/minGPT

# The documentation site (mkdocs.yml): `make docs` builds it into site/ with --strict (a
# broken link, reference or anchor fails the build), `make docs-serve` serves it on
# http://127.0.0.1:8000 and rebuilds on change. Math is typeset by the KaTeX in docs/assets.
$(DOCS_STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e ".[docs]"
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

docs-serve: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs serve

# The home-page picture of docs/figures/site-home.png, from a fresh build.
docs-screenshot: docs chromium
	$(PY) tools/docsite/browser.py site docs/figures/site-home.png

# Headless Chromium for the site's browser test: Debian's package, installed when missing
# (root with apt-get, as on CI); elsewhere a note, and the browser checks are skipped.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	{ if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get install -y -q chromium >/dev/null 2>&1 || \
	     (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)) && \
	    echo "installed chromium" || \
	    echo "note: chromium could not be installed; the docs site's browser checks will be skipped"; \
	  else echo "note: chromium is not installed; the docs site's browser checks will be skipped"; fi; }

clean:
	rm -rf $(VENV) build site src/*.egg-info
