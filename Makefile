# The two commands of the README. Both work on a fresh clone: they create .venv when missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-test
DEMO_STAMP := $(VENV)/.installed-demo

.PHONY: demo test bench api-coverage clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# torch==2.13.0 (CPU) is a test dependency: pip takes it from a file already on these machines.
$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

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

test: $(STAMP)
	$(PY) -m pytest -x -q -p no:cacheprovider

bench: $(STAMP)
	$(PY) benchmarks/run.py
	$(PY) benchmarks/forward_vs_reverse.py
	$(PY) benchmarks/determinism.py

# The table of torch's names chainrule has (docs/api-coverage.md); not a timed test.
api-coverage: $(STAMP)
	$(PY) tools/api_coverage.py

clean:
	rm -rf $(VENV) build src/*.egg-info
