"""Run tinygrad's op tests (``test/backend/test_ops.py``) through chainrule and report where it
differs from torch.

Each of tinygrad's ~1,200 op checks is ``helper_test_op(shapes, torch_fxn, tinygrad_fxn, ...)``:
``torch_fxn`` is torch code (``lambda x: torch.nn.functional.gelu(x, approximate="tanh")``),
run on seeded inputs, its forward and the gradient of its sum compared with tinygrad's.  This
runner keeps the torch side and puts chainrule where tinygrad was: the test file is loaded
twice, as written and with ``torch`` bound to chainrule, and every test method is run in both;
the calls it makes are recorded in order and paired, and each ``torch_fxn`` compiled against
chainrule runs on the same inputs as the one compiled against torch, with tinygrad's own
tolerances (forward atol 1e-6 / rtol 1e-3, gradients 1e-4 / 1e-3 unless the test says).
``helper_test_exception`` checks are paired the same way: chainrule must raise the exception
type torch raises.  tinygrad itself is not needed: its names in the file are stand-ins that do
nothing (the tinygrad side of each check is never run).

It is a report, not a test: it reads another project's source, given by path.

    git clone --depth 1 https://github.com/tinygrad/tinygrad
    python tools/tinygrad_ops.py tinygrad/test/backend/test_ops.py [--tests gelu,conv2d] [--show 50]
"""
import argparse
import collections
import signal
import sys
import traceback
import types
import unittest
from pathlib import Path

import numpy as np
import torch

import chainrule as cr
from mlir_suite import _chainrule_as_torch


class _Anything:
    """What every tinygrad name is here: any attribute, call, index or operator gives another
    stand-in; comparisons are False (so ``skipIf(Device.DEFAULT == ...)`` does not skip)."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __call__(self, *args, **kwargs):
        return self

    def __getitem__(self, key):
        return self

    def __iter__(self):
        return iter(())

    def __bool__(self):
        return False

    def __eq__(self, other):
        return False

    def __hash__(self):
        return 0

    def __int__(self):
        return 0

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __call__
    __neg__ = __pow__ = __matmul__ = __lt__ = __gt__ = __le__ = __ge__ = __call__


def _install_tinygrad_stand_ins():
    anything = _Anything()
    names = {
        "tinygrad": {"Tensor": anything, "Device": anything, "dtypes": anything},
        "tinygrad.helpers": {"getenv": lambda name, default=0: default, "DEBUG": 0,
                             "DEV": anything, "IMAGE": 0, "Context": anything,
                             "CI": False, "OSX": False},
        "tinygrad.tensor": {"_to_np_dtype": lambda dtype: np.float32},
        "tinygrad.renderer": {},
        "tinygrad.renderer.nir": {"NIRRenderer": type("NIRRenderer", (), {})},
        "tinygrad.device": {"is_dtype_supported": lambda *a, **k: True},
        "tinygrad.dtype": {"DType": anything, "dtypes": anything},
        "tinygrad.nn": {}, "tinygrad.nn.torch": {},
    }
    for name, attrs in names.items():
        module = types.ModuleType(name)
        module.__dict__.update(attrs)
        module.__getattr__ = lambda attr: anything
        sys.modules[name] = module


Check = collections.namedtuple("Check", "kind fxn shapes options")


def load(path, chainrule):
    """The test file's module namespace, ``torch`` bound to torch or to chainrule; its
    ``helper_test_op`` and ``TestOps.helper_test_exception`` record into ``namespace['_calls']``."""
    source = path.read_text()
    if chainrule:
        source = source.replace("\nimport torch\n", "\ntorch = _chainrule_as_torch\n")
    namespace = {"__name__": f"tinygrad_ops_{'cr' if chainrule else 'torch'}",
                 "_chainrule_as_torch": _chainrule_as_torch(), "_calls": []}
    exec(compile(source, str(path), "exec"), namespace)
    calls = namespace["_calls"]

    def helper_test_op(shps, torch_fxn, tinygrad_fxn=None, **options):
        calls.append(Check("op", torch_fxn, shps, options))

    def helper_test_exception(self, shps, torch_fxn, tinygrad_fxn=None, expected=None,
                              **options):
        calls.append(Check("exception", torch_fxn, shps, dict(options, expected=expected)))

    namespace["helper_test_op"] = helper_test_op
    for cls in _test_classes(namespace):
        if hasattr(cls, "helper_test_exception"):
            cls.helper_test_exception = helper_test_exception
    return namespace


def _test_classes(namespace):
    return [v for v in namespace.values()
            if isinstance(v, type) and issubclass(v, unittest.TestCase) and v.__module__ ==
            namespace["__name__"]]


def record(namespace, cls_name, test):
    """The checks one test method makes (and the exception that stopped it, if any)."""
    calls = namespace["_calls"]
    calls.clear()
    # the bodies draw targets with np.random and torch.randint: the same seeds in both runs
    # (chainrule's CPU generator reproduces torch's streams)
    (cr if namespace["__name__"].endswith("_cr") else torch).manual_seed(0)
    np.random.seed(0)
    cls = namespace[cls_name]
    error = None
    try:
        getattr(cls(test), test)()
    except unittest.SkipTest:
        pass
    except Exception as e:
        error = e
    return list(calls), error


def inputs(lib, check):
    """tinygrad's prepare_test_op: seeded uniform float32 arrays of the shapes, or ``vals``;
    int64 made int32."""
    o = check.options
    grad = not o.get("forward_only", False)
    low, high = o.get("low", -1.5 if check.kind == "exception" else -2), o.get(
        "high", 1.5 if check.kind == "exception" else 2)
    if check.shapes is None:
        arrays = [np.asarray(v) for v in o["vals"]]
    else:
        np.random.seed(0)
        arrays = [np.random.uniform(low=low, high=high, size=size).astype(np.float32)
                  for size in check.shapes]
    ts = []
    for a in arrays:
        t = lib.tensor(a)
        if t.dtype == lib.int64:
            t = t.to(lib.int32)
        if grad and t.is_floating_point():
            t.requires_grad_()
        ts.append(t)
    return ts


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _compare(what, mine, ref, atol, rtol):
    a, b = _np(mine), _np(ref)
    if a.shape != b.shape:
        return f"{what}: shape {a.shape}, torch {b.shape}"
    if a.dtype != b.dtype:
        return f"{what}: dtype {a.dtype}, torch {b.dtype}"
    if np.issubdtype(b.dtype, np.floating):
        close = np.isclose(a, b, atol=atol, rtol=rtol, equal_nan=True)
        if not close.all():
            i = tuple(int(j) for j in np.argwhere(~close)[0])
            return (f"{what}: {int((~close).sum())}/{b.size} values differ, e.g. at {i}: "
                    f"{a[i]!r} vs torch {b[i]!r}")
    elif not np.array_equal(a, b):
        return f"{what}: values differ"
    return None


def run_op(check_torch, check_cr):
    """None when chainrule agrees with torch, else what differs."""
    o = check_torch.options
    ts, cs = inputs(torch, check_torch), inputs(cr, check_cr)
    out = check_torch.fxn(*ts)
    mine = check_cr.fxn(*cs)
    message = _compare("forward", mine, out, o.get("atol", 1e-6), o.get("rtol", 1e-3))
    if message or o.get("forward_only") or not ts:
        return message
    expected = torch.autograd.grad(check_torch.fxn(*ts).sum(), ts)
    got = cr.autograd.grad(check_cr.fxn(*cs).sum(), cs)
    for i, (g, e) in enumerate(zip(got, expected)):
        message = _compare(f"gradient {i}", g, e, o.get("grad_atol", 1e-4),
                           o.get("grad_rtol", 1e-3))
        if message:
            return message
    return None


def run_exception(check_torch, check_cr):
    expected = check_torch.options["expected"]
    names = " or ".join(e.__name__ for e in (expected if isinstance(expected, tuple)
                                             else (expected,)))
    try:
        check_torch.fxn(*inputs(torch, check_torch))
    except expected:
        pass
    except Exception:
        return None          # torch raises something else in this version: not compared
    else:
        return None
    try:
        check_cr.fxn(*inputs(cr, check_cr))
    except expected:
        return None
    except Exception as e:
        return f"raised {type(e).__name__} ({str(e)[:100]}), torch {names}"
    return f"raised nothing, torch {names}"


def _where(e):
    frame = traceback.extract_tb(e.__traceback__)[-1]
    return f"{type(e).__name__}: {str(e).splitlines()[0][:160] if str(e) else ''} " \
           f"({Path(frame.filename).name}:{frame.lineno})"


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("test_ops", type=Path, help="tinygrad's test/backend/test_ops.py")
    parser.add_argument("--tests", default="", help="comma-separated substrings of test names")
    parser.add_argument("--show", type=int, default=1000, help="differences listed")
    parser.add_argument("--timeout", type=int, default=30, help="seconds per test method")
    args = parser.parse_args()
    _install_tinygrad_stand_ins()
    ref_ns, cr_ns = load(args.test_ops, False), load(args.test_ops, True)
    wanted = [w for w in args.tests.split(",") if w]
    signal.signal(signal.SIGALRM, _alarm)
    counts, listed = collections.Counter(), []
    for cls in _test_classes(ref_ns):
        for test in unittest.TestLoader().getTestCaseNames(cls):
            if wanted and not any(w in test for w in wanted):
                continue
            signal.alarm(args.timeout)
            try:
                ref_calls, ref_error = record(ref_ns, cls.__name__, test)
                cr_calls, cr_error = record(cr_ns, cls.__name__, test)
                if cr_error is not None and len(cr_calls) < len(ref_calls):
                    counts["test body failed"] += len(ref_calls) - len(cr_calls)
                    listed.append((test, "body", _where(cr_error)))
                for i, (a, b) in enumerate(zip(ref_calls, cr_calls)):
                    try:
                        run = run_op if a.kind == "op" else run_exception
                        message = run(a, b)
                        status = "differs" if message else "equal"
                    except _Timeout:
                        raise
                    except Exception as e:
                        if a.kind == "op":     # does torch's own side run?
                            try:
                                a.fxn(*inputs(torch, a))
                            except Exception:
                                counts["torch fails"] += 1
                                continue
                        status, message = "error", _where(e)
                    counts[status] += 1
                    if message:
                        listed.append((test, f"{a.kind} #{i} {status}", message))
            except _Timeout:
                counts["timed out"] += 1
                listed.append((test, "timeout", f"over {args.timeout} s"))
            finally:
                signal.alarm(0)
    for test, what, detail in listed[:args.show]:
        print(f"{test:40s} {what:18s} {detail}")
    print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
