"""What the commands accept: the ranges of every numeric option, shared by the command-line
flags and the experiment file (so ``--lr 0`` is refused exactly like ``lr = 0.0``), and the
memory a configured model would need, estimated before anything is built.

A range is one :class:`Range`; :func:`flag` turns it into an ``argparse`` ``type=`` that
parses and checks a flag, :meth:`Range.ok` is what :mod:`chainrule.cli.schema` checks a TOML
value with, and both print the same ``expected ...`` text.

The memory estimate (:func:`estimate_memory`) counts float32 numbers: the parameters four
times (weights, gradients and up to two optimizer moments), the activations of one batch twice
(the forward values kept for backward, and their gradients) and the data set twice (as loaded
and preprocessed). It is an estimate, not a measurement: it exists so that ``hidden =
[10**12]`` is refused in a second instead of exhausting the machine's memory after minutes.
The limit (:data:`DEFAULT_MAX_MEMORY`) is raised with ``--max-memory``.
"""
from __future__ import annotations

import argparse
import math
import re
from dataclasses import dataclass

# ---------------------------------------------------------------------------- value ranges
MAX_EPOCHS = 1_000_000
MAX_BATCH = 1_000_000_000
MAX_SEED = 2 ** 32 - 1          # what NumPy's seeding accepts on every platform
MAX_K_FOLD = 1000
MAX_BASIS_DEGREE = 10
MAX_BASIS_FEATURES = 1_000_000
MAX_HIDDEN_LAYERS = 100


@dataclass(frozen=True)
class Range:
    """A number ``kind`` (int or float) in [lo, hi] (``lo_open``: in (lo, hi]); floats must be
    finite. ``what`` is the text errors show after ``expected``."""
    kind: type
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    what: str = ""

    def ok(self, v) -> bool:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return False
        if self.kind is int and not isinstance(v, int):
            return False
        if isinstance(v, float) and not math.isfinite(v):
            return False
        if self.lo is not None and (v <= self.lo if self.lo_open else v < self.lo):
            return False
        return self.hi is None or v <= self.hi


RANGES = {
    "lr": Range(float, 0.0, lo_open=True, what="a number > 0, finite"),
    "weight_decay": Range(float, 0.0, what="a number ≥ 0, finite"),
    "epochs": Range(int, 1, MAX_EPOCHS, what=f"an integer ≥ 1 and ≤ {MAX_EPOCHS:,}"),
    "batch_size": Range(int, 1, MAX_BATCH, what=f'"full" or an integer ≥ 1 and ≤ {MAX_BATCH:,}'),
    "seed": Range(int, 0, MAX_SEED, what=f"an integer ≥ 0 and ≤ {MAX_SEED}"),
    "patience": Range(int, 1, MAX_EPOCHS, what=f"an integer ≥ 1 and ≤ {MAX_EPOCHS:,}"),
    "top": Range(int, 1, 1000, what="an integer ≥ 1 and ≤ 1000"),
    "graph_batch": Range(int, 1, 1024, what="an integer ≥ 1 and ≤ 1024"),
    "k_fold": Range(int, 2, MAX_K_FOLD, what=f"0 or an integer ≥ 2 and ≤ {MAX_K_FOLD}"),
    "basis_degree": Range(int, 1, MAX_BASIS_DEGREE,
                          what=f"an integer ≥ 1 and ≤ {MAX_BASIS_DEGREE}"),
    "basis_size": Range(int, 1, MAX_BASIS_FEATURES,
                        what=f"an integer ≥ 1 and ≤ {MAX_BASIS_FEATURES:,}"),
    "hidden_size": Range(int, 1, None, what="an integer ≥ 1"),
}


def _number(text: str, kind: type):
    """``text`` as an int or float; None when it is not one (ints accept '1e3' only if exact)."""
    try:
        return int(text) if kind is int else float(text)
    except ValueError:
        if kind is int:
            try:
                f = float(text)
            except ValueError:
                return None
            return int(f) if math.isfinite(f) and f == int(f) else None
        return None


def flag(name: str, allow_full: bool = False):
    """An argparse ``type=`` for the range ``name``: parses the text and checks the range, so a
    bad value is a usage error naming the flag (exit status 2) before anything runs."""
    spec = RANGES[name]

    def parse(text):
        if allow_full and str(text).lower() == "full":
            return "full"
        v = _number(str(text), spec.kind)
        if v is None or not spec.ok(v):
            raise argparse.ArgumentTypeError(f"{text!r} is not valid; expected {spec.what}")
        return v
    parse.__name__ = name      # argparse names the type in some messages
    return parse


# ---------------------------------------------------------------------------- memory
DEFAULT_MAX_MEMORY = 4 * 2 ** 30
_UNITS = {"": 1, "b": 1, "k": 10 ** 3, "kb": 10 ** 3, "m": 10 ** 6, "mb": 10 ** 6, "g": 10 ** 9,
          "gb": 10 ** 9, "t": 10 ** 12, "tb": 10 ** 12, "kib": 2 ** 10, "mib": 2 ** 20,
          "gib": 2 ** 30, "tib": 2 ** 40}


def parse_size(text) -> int:
    """'4GiB', '500MB', '2e9' → bytes (argparse ``type=`` of ``--max-memory``)."""
    m = re.fullmatch(r"\s*([0-9.eE+]+)\s*([A-Za-z]*)\s*", str(text))
    unit = m.group(2).lower() if m else None
    try:
        value = float(m.group(1)) if m else math.nan
    except ValueError:
        value = math.nan
    if unit not in _UNITS or not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a memory size; expected a number > 0 with an optional unit: "
            "B, KB, MB, GB, TB, KiB, MiB, GiB, TiB (e.g. 8GiB)")
    return int(value * _UNITS[unit])


def format_size(n: float) -> str:
    for unit, size in (("TiB", 2 ** 40), ("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


# data set -> (training rows as shipped, one sample's shape, outputs); the file data sets'
# rows are those of the standard files
DATASET_INFO = {
    "digits": (1797, (1, 8, 8), 10), "iris": (150, (4,), 3), "breast_cancer": (569, (30,), 2),
    "diabetes": (442, (10,), 1), "mnist": (60000, (1, 28, 28), 10),
    "fashion_mnist": (60000, (1, 28, 28), 10), "cifar10": (50000, (3, 32, 32), 10),
}


def basis_features(kind: str, in_features: int, degree: int, size: int) -> int:
    """How many features the basis functions give for ``in_features`` inputs: every monomial
    of total degree 1 … ``degree`` (C(d + k, k) − 1) for polynomial, ``size`` otherwise."""
    if kind == "polynomial":
        return math.comb(in_features + degree, degree) - 1
    return size if kind in ("rbf", "fourier") else in_features


def _network(name: str, input_shape: tuple, num_outputs: int, hidden) -> tuple[int, int]:
    """(parameters, activations per sample) of a built-in network, counted without building
    it (mlp, linear) or by building the fixed-size CNNs and hooking one sample's forward."""
    features = math.prod(input_shape)
    if name == "mlp":
        widths = [features, *hidden, num_outputs]
        params = sum((a + 1) * b for a, b in zip(widths, widths[1:]))
        return params, features + 2 * sum(hidden) + num_outputs
    if name == "linear":
        return (features + 1) * num_outputs, features + num_outputs
    if name in ("glm", "perceptron"):
        return features + 1, features + 2
    if name in ("lenet5", "resnet20") and len(input_shape) == 3:
        return _measured(name, input_shape, num_outputs)
    return 0, features


def _measured(name, input_shape, num_outputs) -> tuple[int, int]:
    import chainrule as cr
    from .factories import build_model
    model = build_model(name, input_shape, num_outputs)
    sizes = []
    handles = [m.register_forward_hook(lambda mod, args, out: sizes.append(out.numel()))
               for _, m in model.named_modules() if not any(True for _ in m.children())]
    try:
        with cr.no_grad():
            model.eval()
            model(cr.zeros(1, *input_shape))
    except (ValueError, RuntimeError, IndexError, ZeroDivisionError) as e:
        raise ValueError(f"model {name!r} cannot take inputs of shape {tuple(input_shape)} "
                         f"({type(e).__name__}: {e})") from None
    finally:
        for h in handles:
            h.remove()
    return sum(p.numel() for p in model.parameters()), math.prod(input_shape) + sum(sizes)


def estimate_memory(model: str, input_shape: tuple, num_outputs: int, batch: int, rows: int,
                    hidden=(128, 64), basis: str = "none", basis_degree: int = 2,
                    basis_size: int = 32) -> int:
    """Bytes a training run of the built-in ``model`` needs, about (see the module docstring):
    ``batch`` samples per step, ``rows`` samples in the data set, ``input_shape`` per sample.
    A factory model (``pkg.module:factory``) counts as its inputs and data only."""
    sample = math.prod(input_shape)
    params, acts = 0, 0
    shape = tuple(input_shape)
    if basis != "none" and len(shape) == 1:
        d = shape[0]
        out = basis_features(basis, d, basis_degree, basis_size)
        params += {"rbf": out * (d + 1), "fourier": out * (d + 1)}.get(basis, 0)
        # rbf keeps the (batch, centres, features) differences; polynomial one product each
        acts += out * (d + 2) if basis == "rbf" else out * (basis_degree + 1)
        shape = (out,)
    p, a = _network(model, shape, num_outputs, list(hidden))
    params, acts = params + p, acts + a
    floats = 4 * params + 2 * batch * acts + 2 * rows * sample
    return 4 * floats


def memory_problem(estimate: int, limit: int, what: str) -> str | None:
    """The error text when ``estimate`` bytes exceed ``limit``, or None."""
    if estimate <= limit:
        return None
    return (f"{what} would need about {format_size(estimate)} of memory, more than the limit of "
            f"{format_size(limit)}; make it smaller, or raise the limit with --max-memory "
            f"(e.g. --max-memory {format_size(estimate * 1.25).replace(' ', '')})")
