"""Run torch-mlir's end-to-end test suite through chainrule and report where it differs from
torch.

torch-mlir (github.com/llvm/torch-mlir) checks its compiler against eager torch with about
1,800 small cases in ``projects/pt1/python/torch_mlir_e2e_test/test_suite/``: each a
``torch.nn.Module`` whose ``forward`` calls a few torch ops with particular arguments, and a
function that calls the module on ``TestUtils`` inputs.  Code nobody on this team wrote, in the
style users write: a good check that chainrule behaves as torch where the op tables and
torch's own OpInfo samples (``opinfo_sweep.py``) do not reach.

Each suite file is run twice: as written, with torch, recording every call the case makes on
its module (arguments copied before the call, outputs and the arguments after it); then with
its import lines changed to chainrule's, the module built from chainrule's classes, torch's
parameters, buffers and tensor attributes copied in, and each recorded call replayed on
converted arguments.  Outputs (and arguments an op mutates) are compared: shape, dtype,
values (float rtol 1e-4 / atol 1e-5 in float32, 1e-9 in float64, 2e-3 / 1e-3 in float16;
integers and bools exactly).
Cases torch itself cannot run, or that need what chainrule does not model (complex, bfloat16,
quantized tensors, torchvision, custom ops), are counted apart.  Random ops (``rng.py``, and
any case whose torch outputs change under another seed) are compared only in shape and dtype.

``--grad`` also compares, for each call, the gradients of a fixed random weighting of its
floating-point outputs with respect to its floating-point tensor arguments (float32: rtol
1e-3), where torch can take them.

It is a report, not a test: it reads another project's source, given by path.

    git clone --depth 1 https://github.com/llvm/torch-mlir
    python tools/mlir_suite.py torch-mlir/projects/pt1/python/torch_mlir_e2e_test/test_suite \\
        [--files elementwise,basic] [--cases NAME,...] [--show 40] [--grad]
"""
import argparse
import collections
import re
import signal
import sys
import traceback
import types
from pathlib import Path

import numpy as np
import torch

import chainrule as cr

SKIP_FILES = {"__init__.py", "timeout.py", "custom_op_example.py", "vision_models.py",
              "quantized_models.py"}
RANDOM_FILES = {"rng.py"}
_IMPORTS = [(r"^import torch$", "torch = _chainrule_as_torch"),
            (r"^import torch\.(\S+) as (\w+)$", r"import chainrule.\1 as \2"),
            (r"^import torch\.(\S+)$", "pass  # (a torch-only module)"),
            (r"^from torch(\.\S+)? import", r"from chainrule\1 import")]
UNMODELLED = (torch.bfloat16, torch.complex64, torch.complex128, torch.quint8, torch.qint8,
              torch.qint32, torch.float8_e4m3fn, torch.float8_e5m2)


class _TestUtils:
    """torch-mlir's ``TestUtils``: seeded torch inputs (the torch run only: the chainrule run
    replays the recorded arguments)."""

    def __init__(self):
        torch.manual_seed(0)

    def rand(self, *sizes, low=0.0, high=1.0):
        return torch.empty(sizes).uniform_(low, high)

    def randint(self, *sizes, low=0, high=10, dtype=torch.int64):
        return torch.randint(low, high, sizes, dtype=dtype)

    def nans(self, *sizes):
        return torch.full(sizes, torch.nan)


class _Placeholder:
    """A torch name chainrule does not have (complex64, float8_e4m3fn, ...), so that a suite
    file's class definitions load; a case that uses it fails, counted as unmodelled."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name} (not in chainrule)"


class _TorchOnly:
    """What a torch-only import (``from torch.onnx import register_custom_op_symbolic``) binds
    in the chainrule run: usable as a decorator, a decorator factory or a call, doing nothing."""

    def __call__(self, *args, **kwargs):
        return args[0] if len(args) == 1 and callable(args[0]) and not kwargs else self


def _chainrule_as_torch():
    """chainrule as a suite file's ``torch``, with placeholders for torch's dtypes it lacks."""
    module = types.ModuleType("torch")

    def attribute(name):
        if hasattr(cr, name):
            return getattr(cr, name)
        if isinstance(getattr(torch, name, None), torch.dtype):
            return _Placeholder(name)
        raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
    module.__getattr__ = attribute
    return module


def _install_stubs(registry):
    """The three torch-mlir modules a suite file imports, registering into ``registry``."""
    def register_test_case(module_factory):
        def register(fn):
            registry[fn.__name__] = (module_factory, fn)
            return fn
        return register

    stubs = {"torch_mlir_e2e_test": {},
             "torch_mlir_e2e_test.registry": {"register_test_case": register_test_case},
             "torch_mlir_e2e_test.framework": {"TestUtils": _TestUtils},
             "torch_mlir_e2e_test.annotations": {"export": lambda f: f,
                                                 "annotate_args": lambda spec: lambda f: f}}
    try:
        import torchvision  # noqa: F401  (conv.py's torch run imports it)
    except ImportError:
        for name in ("torchvision", "torchvision.ops", "torchvision.models"):
            stubs[name] = {}
    for name, attrs in stubs.items():
        module = types.ModuleType(name)
        module.__dict__.update(attrs)
        sys.modules[name] = module


def load(path, chainrule_imports):
    """{case name: (module factory, case function)} of one suite file, its imports as written
    or changed to chainrule's."""
    source = path.read_text()
    if chainrule_imports:
        lines = []
        for line in source.splitlines():
            for pattern, replacement in _IMPORTS:
                line = re.sub(pattern, replacement, line)
            if line.startswith("from chainrule") and not line.rstrip().endswith(("(", "\\")):
                names = [n.split(" as ")[-1].strip() for n in line.split(" import ")[1].split(",")]
                line = (f"try:\n    {line}\nexcept ImportError:   # torch-only names\n    "
                        + " = ".join(names) + " = _torch_only")
            lines.append(line)
        source = "\n".join(lines)
    registry = {}
    _install_stubs(registry)
    namespace = {"__name__": f"mlir_suite_{path.stem}_{'cr' if chainrule_imports else 'torch'}",
                 "_chainrule_as_torch": _chainrule_as_torch(), "_torch_only": _TorchOnly()}
    exec(compile(source, str(path), "exec"), namespace)
    return registry


class _Recorder:
    """Stands in for the module inside a case: records each method call (arguments copied
    before it, the output, the arguments after it)."""

    def __init__(self, module):
        self._module, self.calls = module, []

    def __getattr__(self, name):
        attr = getattr(self._module, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            before = _clone((args, kwargs))
            out = attr(*args, **kwargs)
            self.calls.append((name, before, _clone(out), _clone((args, kwargs))))
            return out
        return call


def _clone(value):
    if isinstance(value, torch.Tensor):
        return value.detach().clone().requires_grad_(value.requires_grad)
    if isinstance(value, (tuple, list)):
        return type(value)(_clone(v) for v in value) if not hasattr(value, "_fields") \
            else type(value)(*(_clone(v) for v in value))
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    return value


def _leaves(value):
    if isinstance(value, (tuple, list)):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


class Unmodelled(Exception):
    """A value chainrule does not model (complex, bfloat16, quantized, ...)."""


def to_cr(value):
    if isinstance(value, torch.Tensor):
        if value.dtype in UNMODELLED or value.is_quantized:
            raise Unmodelled(str(value.dtype))
        t = cr.tensor(value.detach().numpy().copy())
        return t.requires_grad_() if value.requires_grad else t
    if isinstance(value, torch.dtype):
        if value in UNMODELLED:
            raise Unmodelled(str(value))
        return getattr(cr, str(value).split(".")[-1])
    if isinstance(value, (tuple, list)):
        return type(value)(to_cr(v) for v in value)
    if isinstance(value, dict):
        return {k: to_cr(v) for k, v in value.items()}
    return value


def copy_state(mine, ref):
    """torch's parameters, buffers and plain tensor attributes into chainrule's module."""
    if not isinstance(ref, torch.nn.Module):
        return
    state = {k: to_cr(v) for k, v in ref.state_dict().items()}
    if state:
        mine.load_state_dict(state, strict=False)
    for module_name, sub in ref.named_modules():
        target = mine
        for part in filter(None, module_name.split(".")):
            target = getattr(target, part)
        for key, value in vars(sub).items():
            if isinstance(value, torch.Tensor) and not key.startswith("_"):
                setattr(target, key, to_cr(value))


def compare(mine, ref, approximate_only=False, where="output", loose=False):
    """None when chainrule's value ``mine`` matches torch's ``ref``, else what differs."""
    if isinstance(ref, torch.Tensor):
        if not isinstance(mine, cr.Tensor):
            return f"{where}: a {type(mine).__name__}, torch a Tensor"
        if tuple(mine.shape) != tuple(ref.shape):
            return f"{where}: shape {tuple(mine.shape)}, torch {tuple(ref.shape)}"
        mine_dtype, ref_dtype = str(mine.dtype).split(".")[-1], str(ref.dtype).split(".")[-1]
        if mine_dtype != ref_dtype:
            return f"{where}: dtype {mine_dtype}, torch {ref_dtype}"
        if approximate_only:
            return None
        a, b = mine.detach().numpy(), ref.detach().numpy(force=True)   # (a ZeroTensor too)
        if b.dtype.kind in "fc":
            rtol, atol = {np.float64: (1e-9, 1e-9), np.float16: (2e-3, 1e-3)}.get(
                b.dtype.type, (1e-4, 1e-5))
            if loose:   # a backward sums more terms, in another order
                rtol, atol = max(rtol, 1e-3), max(atol, 1e-4)
            close = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
            if not close.all():
                i = np.argwhere(~close)[0]
                return (f"{where}: {int((~close).sum())}/{b.size} values differ, e.g. at "
                        f"{tuple(int(j) for j in i)}: {a[tuple(i)]!r} vs torch {b[tuple(i)]!r}")
        elif not np.array_equal(a, b):
            return f"{where}: values differ ({a.ravel()[:4]} vs torch {b.ravel()[:4]})"
        return None
    if isinstance(ref, (tuple, list)):
        if not isinstance(mine, (tuple, list)) or len(mine) != len(ref):
            return (f"{where}: {type(mine).__name__} {_describe(mine)}, "
                    f"torch {type(ref).__name__} of {len(ref)}")
        for i, (m, r) in enumerate(zip(mine, ref)):
            message = compare(m, r, approximate_only, f"{where}[{i}]", loose)
            if message:
                return message
        return None
    if isinstance(ref, dict):
        return compare([mine.get(k) for k in ref], list(ref.values()), approximate_only, where,
                       loose)
    if isinstance(ref, (bool, int, float)) and not isinstance(mine, cr.Tensor):
        if type(mine) is not type(ref):
            return f"{where}: {type(mine).__name__} {mine!r}, torch {type(ref).__name__} {ref!r}"
        if not (approximate_only or mine == ref or (ref != ref and mine != mine)
                or isinstance(ref, float) and np.isclose(mine, ref, rtol=1e-6)):
            return f"{where}: {mine!r}, torch {ref!r}"
        return None
    if isinstance(ref, torch.dtype):
        return None if str(mine).split(".")[-1] == str(ref).split(".")[-1] else \
            f"{where}: {mine}, torch {ref}"
    if type(mine).__name__ != type(ref).__name__:
        return f"{where}: a {type(mine).__name__}, torch a {type(ref).__name__}"
    return None


def _describe(value):
    return f"of {len(value)}" if isinstance(value, (tuple, list)) else repr(value)[:40]


def _draws_random_numbers(module, calls):
    """Whether replaying the calls under another seed changes an output (dropout, rrelu, ...):
    then only shapes and dtypes are compared."""
    torch.manual_seed(12345)
    for method, (args, kwargs), out, _ in calls:
        try:
            again = getattr(module, method)(*_clone(args), **_clone(kwargs))
        except Exception:
            return False
        if not _identical(again, out):
            return True
    return False


def _identical(a, b):
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and a.dtype == b.dtype and bool(
            torch.equal(a, b) or a.is_floating_point() and torch.isnan(a).equal(torch.isnan(b))
            and torch.equal(a.nan_to_num(), b.nan_to_num()))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_identical(x, y) for x, y in zip(a, b))
    return True


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def _gradients(lib, method, args, kwargs):
    """The gradients of Σ_i ⟨out_i, r_i⟩ (fixed random r_i) with respect to each floating-point
    tensor argument, zeros for an unused one; None when no output is differentiable."""
    leaves = []

    def leaf(value):
        if isinstance(value, lib.Tensor) and value.is_floating_point():
            value = value.detach().clone().requires_grad_()
            leaves.append(value)
            return value
        if isinstance(value, (tuple, list)):
            return type(value)(leaf(v) for v in value)
        return value
    args, kwargs = leaf(args), {k: leaf(v) for k, v in kwargs.items()}
    if not leaves:
        return None
    outs = [o for o in _leaves(method(*args, **kwargs))
            if isinstance(o, lib.Tensor) and o.requires_grad]
    if not outs:
        return None
    draw = np.random.default_rng(7)
    total = sum((o * lib.tensor(draw.standard_normal(tuple(o.shape)).astype(
        str(o.dtype).split(".")[-1]))).sum() for o in outs)
    grads = lib.autograd.grad(total, leaves, allow_unused=True)
    return [lib.zeros_like(x) if g is None else g for x, g in zip(leaves, grads)]


def run_case(name, torch_case, cr_case, approximate_only, gradients=False):
    """(status, detail): 'equal', 'differs', 'error' (chainrule raised), 'torch' (torch's own
    run raised), 'unmodelled', 'missing' (chainrule's file has no such case)."""
    factory, fn = torch_case
    try:
        torch.manual_seed(0)
        ref_module = factory()
        recorder = _Recorder(ref_module)
        fn(recorder, _TestUtils())
    except Exception as e:
        return "torch", f"{type(e).__name__}: {e}".splitlines()[0][:160]
    if cr_case is None:
        return "missing", ""
    approximate_only = approximate_only or _draws_random_numbers(ref_module, recorder.calls)
    if any(isinstance(v, torch.Tensor) and v.dtype in UNMODELLED
           for call in recorder.calls for v in _leaves(call[2])):
        return "unmodelled", "a result's dtype"
    try:
        mine = cr_case[0]()
        copy_state(mine, ref_module)
        for method, (args, kwargs), out, (args_after, kwargs_after) in recorder.calls:
            cargs, ckwargs = to_cr(args), to_cr(kwargs)
            result = getattr(mine, method)(*cargs, **ckwargs)
            message = (compare(result, out, approximate_only)
                       or compare(list(cargs), list(args_after), approximate_only, "argument"))
            if message:
                return "differs", message
            if not gradients or approximate_only:
                continue
            try:
                expected = _gradients(torch, getattr(ref_module, method), _clone(args),
                                      _clone(kwargs))
            except Exception:
                continue                         # torch cannot differentiate it either
            if expected is not None:
                got = _gradients(cr, getattr(mine, method), to_cr(args), to_cr(kwargs))
                message = compare(got, expected, where="gradient", loose=True)
                if message:
                    return "differs", message
    except Unmodelled as e:
        return "unmodelled", str(e)
    except _Timeout:
        raise
    except Exception as e:
        frame = traceback.extract_tb(e.__traceback__)[-1]
        where = f"{Path(frame.filename).name}:{frame.lineno}"
        return "error", f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''} " \
                        f"({where})"
    return "equal", ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", type=Path, help="torch-mlir's test_suite directory")
    parser.add_argument("--files", default="", help="comma-separated file stems")
    parser.add_argument("--cases", default="", help="comma-separated case names")
    parser.add_argument("--show", type=int, default=1000, help="differences listed")
    parser.add_argument("--timeout", type=int, default=20, help="seconds per case")
    parser.add_argument("--grad", action="store_true",
                        help="also compare the gradients with respect to floating inputs")
    args = parser.parse_args()
    wanted_files = set(filter(None, args.files.split(",")))
    wanted_cases = set(filter(None, args.cases.split(",")))
    signal.signal(signal.SIGALRM, _alarm)
    counts, listed = collections.Counter(), []
    for path in sorted(args.suite.glob("*.py")):
        if path.name in SKIP_FILES or wanted_files and path.stem not in wanted_files:
            continue
        try:
            torch_cases = load(path, chainrule_imports=False)
        except Exception as e:
            print(f"{path.name}: torch's run cannot load it ({type(e).__name__}: {e})")
            continue
        try:
            cr_cases = load(path, chainrule_imports=True)
        except Exception as e:
            frame = traceback.extract_tb(e.__traceback__)[-1]
            print(f"{path.name}: chainrule cannot load it ({type(e).__name__}: {e} at line "
                  f"{frame.lineno})")
            counts["file not loaded"] += len(torch_cases)
            continue
        for name, case in torch_cases.items():
            if wanted_cases and name not in wanted_cases:
                continue
            signal.alarm(args.timeout)
            try:
                status, detail = run_case(name, case, cr_cases.get(name),
                                          path.name in RANDOM_FILES, args.grad)
            except _Timeout:
                status, detail = "error", f"timed out after {args.timeout} s"
            finally:
                signal.alarm(0)
            counts[status] += 1
            if status in ("differs", "error", "missing"):
                listed.append((path.stem, name, status, detail))
    for stem, name, status, detail in listed[:args.show]:
        print(f"{stem:22s} {name:50s} {status:8s} {detail}")
    print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
