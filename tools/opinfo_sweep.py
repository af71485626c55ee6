"""Run PyTorch's own OpInfo and ModuleInfo samples through chainrule and report where it
differs from torch.

torch's test suite describes each operator once (``op_db`` in
``torch.testing._internal.common_methods_invocations``): sample inputs that cover its
arguments, broadcasting and edge shapes, and error inputs that must raise.  This sweep feeds
the same samples to chainrule's function of the same name and compares:

* values, shapes and dtypes of every output (float rtol/atol 1e-5/1e-6 in float32,
  1e-10 in float64; integers and bools exactly);
* gradients, in float64: the gradient of a fixed random weighting of the outputs with respect
  to every floating-point input tensor;
* error inputs: chainrule must raise where torch does (the exception type is reported when
  it differs).

``--modules`` does the same for torch.nn's modules (``module_db``): each module built from
the same constructor arguments, torch's parameters and buffers loaded into chainrule's, the
same forward inputs in training and eval mode; outputs, and float64 gradients of the inputs
and of every parameter, compared.

It is a report, not a test: torch's samples are private API that changes between releases.
Needs ``pip install expecttest`` (torch's testing package imports it).

    python tools/opinfo_sweep.py [--ops add,mul] [--dtypes float32,float64] [--no-grad]
    python tools/opinfo_sweep.py --modules [--ops Linear,Conv2d]
    python tools/opinfo_sweep.py --optimizers [--ops Adam,SGD]

``--optimizers`` runs torch.optim's ``optim_db`` configurations: 20 steps of each optimizer
on the same parameters and gradients (a closure where the optimizer needs one), parameters
compared after every step.
"""
import argparse
import collections
import sys
import traceback
import warnings

import numpy as np
import torch
from torch.testing._internal.common_methods_invocations import op_db

import chainrule as cr

DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64,
          "int32": torch.int32, "bool": torch.bool, "uint8": torch.uint8,
          "float16": torch.float16}
SKIP_NAMESPACES = ("fft", "sparse", "masked", "_refs", "signal", "torch._")


def resolve(root, dotted):
    obj = root
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def to_cr(value, requires_grad_map):
    """torch objects in a sample → chainrule's (tensors keep dtype, shape and requires_grad)."""
    if isinstance(value, torch.Tensor):
        for seen, converted in requires_grad_map:   # one tensor passed twice stays one
            if seen is value:
                return converted
        if (value.is_complex() or value.layout != torch.strided or value.is_meta
                or value.dtype == torch.bfloat16):
            raise TypeError("unsupported tensor kind")
        try:
            array = value.detach().cpu().numpy().copy()
        except Exception as exc:
            raise TypeError("unsupported tensor kind") from exc
        t = cr.tensor(array, requires_grad=value.requires_grad)
        requires_grad_map.append((value, t))
        return t
    if isinstance(value, torch.dtype):
        return getattr(cr, str(value).split(".")[1])
    if isinstance(value, torch.device):
        return "cpu"
    if isinstance(value, torch.Size):
        return tuple(value)
    if isinstance(value, torch.memory_format):
        return getattr(cr, str(value).split(".")[1])
    if callable(value) and getattr(value, "__name__", None) in dir(cr.nn.functional) and \
            value is getattr(torch.nn.functional, value.__name__, None):
        return getattr(cr.nn.functional, value.__name__)   # e.g. activation=F.gelu
    if isinstance(value, (list, tuple)):
        converted = [to_cr(v, requires_grad_map) for v in value]
        return type(value)(converted) if not hasattr(value, "_fields") else converted
    if isinstance(value, dict):
        return {k: to_cr(v, requires_grad_map) for k, v in value.items()}
    return value


def flat_outputs(value):
    if isinstance(value, (list, tuple)):
        out = []
        for v in value:
            out.extend(flat_outputs(v))
        return out
    return [value]


def as_numpy(value):
    if isinstance(value, torch.Tensor):
        return value.detach().numpy() if not value.is_complex() else None
    if isinstance(value, cr.Tensor):
        return np.asarray(value.detach().numpy())
    return value


def compare(expected, actual, dtype):
    """'' when equal, else a short reason."""
    e_list, a_list = flat_outputs(expected), flat_outputs(actual)
    if len(e_list) != len(a_list):
        return f"{len(a_list)} outputs, torch {len(e_list)}"
    for i, (e, a) in enumerate(zip(e_list, a_list)):
        if isinstance(e, torch.Tensor) != isinstance(a, cr.Tensor):
            if isinstance(e, torch.Tensor) and not isinstance(a, (np.ndarray, np.generic)):
                return f"out{i}: {type(a).__name__}, torch a Tensor"
            if not isinstance(e, torch.Tensor):
                if e != (a.item() if isinstance(a, cr.Tensor) and a.numel() == 1 else a):
                    return f"out{i}: {a!r}, torch {e!r}"
                continue
        if not isinstance(e, torch.Tensor):
            try:
                equal = bool(e == a) or (e != e and a != a)
            except Exception:
                equal = False
            if not equal:
                return f"out{i}: {a!r}, torch {e!r}"
            continue
        en, an = as_numpy(e), as_numpy(a)
        if en is None:
            continue
        if tuple(en.shape) != tuple(an.shape):
            return f"out{i}: shape {tuple(an.shape)}, torch {tuple(en.shape)}"
        if str(e.dtype).split(".")[1] != str(an.dtype).replace("bool_", "bool"):
            if not (str(e.dtype) == "torch.bool" and an.dtype == np.bool_):
                return f"out{i}: dtype {an.dtype}, torch {e.dtype}"
        if en.dtype.kind in "fc":
            tol = (1e-10, 1e-10) if en.dtype == np.float64 else (1e-5, 1e-6)
            if en.dtype == np.float16:
                tol = (1e-3, 1e-3)
            with np.errstate(all="ignore"):
                ok = np.allclose(an.astype(np.float64), en.astype(np.float64), rtol=tol[0],
                                 atol=tol[1], equal_nan=True)
            if not ok:
                with np.errstate(all="ignore"):
                    diff = np.nanmax(np.abs(an.astype(float) - en.astype(float))) if en.size else 0
                return f"out{i}: values differ (max abs {diff:.3g})"
        elif not np.array_equal(an, en):
            return f"out{i}: values differ"
    return ""


def weights_for(outputs, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(tuple(o.shape)) if isinstance(o, torch.Tensor)
            and o.dtype.is_floating_point and o.requires_grad else None for o in outputs]


def grad_check(op, cr_fn, sample, seed):
    """Compare float64 gradients of sum(w * out) w.r.t. every input that requires grad."""
    args_t = (sample.input, *sample.args)
    out_t = op(*args_t, **sample.kwargs)
    outs_t = flat_outputs(out_t)
    ws = weights_for(outs_t, seed)
    pairs = []
    cr_args = to_cr(args_t, pairs)
    cr_kwargs = to_cr(sample.kwargs, pairs)
    out_c = cr_fn(*cr_args, **cr_kwargs)
    outs_c = flat_outputs(out_c)
    leaves_t = [t for t, _ in pairs if t.requires_grad and t.is_leaf]
    if not leaves_t or all(w is None for w in ws):
        return ""
    loss_t = sum((o * torch.from_numpy(w)).sum() for o, w in zip(outs_t, ws) if w is not None)
    grads_t = torch.autograd.grad(loss_t, leaves_t, allow_unused=True)
    loss_c = None
    for o, w in zip(outs_c, ws):
        if w is None:
            continue
        if not isinstance(o, cr.Tensor) or not o.requires_grad:
            return "output does not require grad"
        term = (o * cr.tensor(w)).sum()
        loss_c = term if loss_c is None else loss_c + term
    leaves_c = [c for t, c in pairs if t.requires_grad and t.is_leaf]
    grads_c = cr.autograd.grad(loss_c, leaves_c, allow_unused=True)
    for i, (gt, gc) in enumerate(zip(grads_t, grads_c)):
        if gt is None and gc is None:
            continue
        if gt is None:
            gt = torch.zeros_like(leaves_t[i])
        if gc is None:
            gc = cr.zeros(tuple(leaves_t[i].shape), dtype=cr.float64)
        reason = compare(gt, gc, torch.float64)
        if reason:
            return f"grad{i}: " + reason.split(": ", 1)[1]
    return ""


# OpInfos whose op is a lambda around the function: the same lambda over chainrule
_METHODS = ("contiguous", "sum_to_size", "expand", "expand_as", "to", "reshape_as", "view",
            "view_as", "new_zeros", "new_ones", "new_full", "unfold", "repeat", "double",
            "float", "half", "int", "long", "short", "bool", "byte", "char")
WRAPPED = {name: (lambda name: lambda x, *a, **k: getattr(x, name)(*a, **k))(name)
           for name in _METHODS}
WRAPPED.update({
    "zero_": lambda x: x.clone().zero_(),
    "einsum": lambda tensors, equation: cr.einsum(equation, tensors),
    "where": lambda x, condition, other, **k: cr.where(condition, x, other, **k),
    "nn.functional.embedding": lambda w, idx, **k: cr.nn.functional.embedding(idx, w, **k),
    "nn.functional.embedding_bag":
        lambda w, idx, **k: cr.nn.functional.embedding_bag(idx, w, **k),
})


def _replace(value, mapping):
    """``value`` with every object whose id is in ``mapping`` replaced (lists, tuples, dicts)."""
    if id(value) in mapping:
        return mapping[id(value)]
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_replace(v, mapping) for v in value)
    if isinstance(value, dict):
        return {k: _replace(v, mapping) for k, v in value.items()}
    return value


def jvp_check(op, cr_fn, sample, seed):
    """Compare forward-mode tangents (torch.func.jvp vs chainrule.func.jvp) in float64, with a
    random tangent for every floating-point tensor in the sample."""
    structure = (sample.input, sample.args, sample.kwargs)
    pairs = []
    converted = to_cr(structure, pairs)
    floats = [(t, c) for t, c in pairs if t.dtype == torch.float64]
    if not floats:
        return ""
    rng = np.random.default_rng(seed)
    tangents = [rng.standard_normal(tuple(t.shape)) for t, _ in floats]

    def call(fn, base, leaves):
        def f(*xs):
            x, a, k = _replace(base, {id(leaf): x for leaf, x in zip(leaves, xs)})
            outs = [o for o in flat_outputs(fn(x, *a, **k))
                    if isinstance(o, (torch.Tensor, cr.Tensor)) and o.dtype in (torch.float64,
                                                                                 cr.float64)]
            return tuple(outs)
        return f

    plain = [t.detach() for t, _ in floats]
    base_t = _replace(structure, {id(t): p for (t, _), p in zip(floats, plain)})
    _, out_t = torch.func.jvp(call(op, base_t, plain), tuple(plain),
                              tuple(torch.tensor(v) for v in tangents))
    _, out_c = cr.func.jvp(call(cr_fn, converted, [c for _, c in floats]),
                           tuple(c.detach() for _, c in floats),
                           tuple(cr.tensor(v) for v in tangents))
    return compare(out_t, out_c, torch.float64)


def cr_callable(opinfo):
    """chainrule's counterpart of an OpInfo, or None (with the reason)."""
    name = opinfo.name
    if name in WRAPPED:
        return WRAPPED[name], ""
    if name.startswith("__") or opinfo.op is None:
        method = getattr(cr.Tensor, name, None) if name.startswith("__") else None
        if method is None:
            return None, "no dunder"
        return (lambda x, *a, **k: method(x, *a, **k)), ""
    if isinstance(opinfo.op, (torch._ops.OpOverload, torch._ops.OpOverloadPacket)):
        namespace, _, op = str(opinfo.op).partition(".")     # "aten._safe_softmax.default"
        fn = resolve(getattr(cr.ops, namespace, None), op) if hasattr(cr.ops, namespace) else None
        return (fn, "") if fn is not None else (None, "missing")
    torch_obj = resolve(torch, name)
    if torch_obj is None and opinfo.method_variant is not None:
        torch_obj = opinfo.method_variant
    fn = resolve(cr, name)
    if torch_obj is not None and opinfo.op is not torch_obj:
        return None, "wrapped op"
    if fn is None:
        method = getattr(cr.Tensor, name.split(".")[-1], None)
        if method is not None and opinfo.method_variant is opinfo.op:
            return (lambda x, *a, **k: method(x, *a, **k)), ""
        return None, "missing"
    return fn, ""


def run(ops=None, dtypes=("float32", "float64", "int64", "bool"), grads=True, errors=True,
        verbose=False, reference=False, jvp=False):
    problems = collections.defaultdict(list)
    stats = collections.Counter()
    for opinfo in op_db:
        full = opinfo.name + ("." + opinfo.variant_test_name if opinfo.variant_test_name else "")
        if ops and opinfo.name not in ops and full not in ops:
            continue
        if opinfo.name.startswith(SKIP_NAMESPACES):
            continue
        fn, why = cr_callable(opinfo)
        if fn is None:
            stats[why] += 1
            if why == "missing":
                problems[full].append("missing in chainrule")
            continue
        stats["ops"] += 1
        supported = opinfo.supported_dtypes("cpu")
        for dname in dtypes:
            dtype = DTYPES[dname]
            if dtype not in supported:
                continue
            torch.manual_seed(0)
            try:
                samples = list((opinfo.reference_inputs if reference else opinfo.sample_inputs)(
                    "cpu", dtype, requires_grad=False))
            except Exception:
                stats["sample error"] += 1
                continue
            for k, sample in enumerate(samples):
                stats["samples"] += 1
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        expected = opinfo.op(sample.input, *sample.args, **sample.kwargs)
                    except Exception:
                        continue
                    try:
                        pairs = []
                        args = to_cr((sample.input, *sample.args), pairs)
                        kwargs = to_cr(sample.kwargs, pairs)
                    except TypeError:
                        continue
                    try:
                        actual = fn(*args, **kwargs)
                        reason = compare(expected, actual, dtype)
                    except Exception as exc:
                        reason = f"raised {type(exc).__name__}: {str(exc)[:150]}"
                        if verbose:
                            traceback.print_exc()
                if reason:
                    problems[full].append(f"[{dname} #{k}] {reason} | {sample.summary()[:200]}"
                                          if hasattr(sample, "summary") else reason)
        if grads and opinfo.supports_autograd and torch.float64 in supported:
            torch.manual_seed(0)
            try:
                samples = list(opinfo.sample_inputs("cpu", torch.float64, requires_grad=True))
            except Exception:
                samples = []
            for k, sample in enumerate(samples):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        opinfo.op(sample.input, *sample.args, **sample.kwargs)
                    except Exception:
                        continue
                    stats["grad samples"] += 1
                    try:
                        reason = grad_check(opinfo.op, fn, sample, k)
                    except TypeError as exc:
                        if "unsupported tensor kind" in str(exc):
                            continue
                        reason = f"grad raised TypeError: {str(exc)[:150]}"
                    except Exception as exc:
                        reason = f"grad raised {type(exc).__name__}: {str(exc)[:150]}"
                if reason:
                    problems[full].append(f"[grad #{k}] {reason}")
        if jvp and opinfo.supports_forward_ad and torch.float64 in supported:
            torch.manual_seed(0)
            try:
                samples = list(opinfo.sample_inputs("cpu", torch.float64, requires_grad=False))
            except Exception:
                samples = []
            for k, sample in enumerate(samples):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        opinfo.op(sample.input, *sample.args, **sample.kwargs)
                        stats["jvp samples"] += 1
                        reason = jvp_check(opinfo.op, fn, sample, k)
                    except TypeError as exc:
                        reason = "" if "unsupported tensor kind" in str(exc) else \
                            f"jvp raised TypeError: {str(exc)[:150]}"
                    except Exception as exc:
                        reason = f"jvp raised {type(exc).__name__}: {str(exc)[:150]}"
                if reason:
                    problems[full].append(f"[jvp #{k}] {reason}")
        if errors and opinfo.error_inputs_func is not None:
            try:
                error_inputs = list(opinfo.error_inputs("cpu"))
            except Exception:
                error_inputs = []
            for k, ei in enumerate(error_inputs):
                sample = ei.sample_input
                stats["error inputs"] += 1
                try:
                    pairs = []
                    args = to_cr((sample.input, *sample.args), pairs)
                    kwargs = to_cr(sample.kwargs, pairs)
                except TypeError:
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        fn(*args, **kwargs)
                    except Exception as exc:
                        if not isinstance(exc, ei.error_type):
                            problems[full].append(
                                f"[error #{k}] {type(exc).__name__}, torch {ei.error_type.__name__}"
                                f": {str(exc)[:100]}")
                        continue
                problems[full].append(f"[error #{k}] no error; torch {ei.error_type.__name__}: "
                                      f"{ei.error_regex[:100]}")
    return problems, stats


def weighted_loss(outputs, weights, lib):
    loss = None
    for o, w in zip(outputs, weights):
        if w is None:
            continue
        term = (o * lib.tensor(w)).sum()
        loss = term if loss is None else loss + term
    return loss


def module_case(info, mi, training, dtype):
    """'' when chainrule's module matches torch's on this ModuleInput, else the reason."""
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = info.module_cls(*mi.constructor_input.args, **mi.constructor_input.kwargs)
        tm = tm.to(dtype).train(training)
        pairs = []
        cm = getattr(cr.nn, info.module_cls.__name__)(
            *to_cr(mi.constructor_input.args, pairs), **to_cr(mi.constructor_input.kwargs, pairs))
        cm = cm.to(getattr(cr, str(dtype).split(".")[1])).train(training)
        inputs = []
        args_c = to_cr(mi.forward_input.args, inputs)
        kwargs_c = to_cr(mi.forward_input.kwargs, inputs)
        if any(torch.nn.parameter.is_lazy(p) for p in tm.parameters()):
            # lazy modules: one call each to infer their shapes before the state is copied
            with torch.no_grad(), cr.no_grad():
                tm(*mi.forward_input.args, **mi.forward_input.kwargs)
                cm(*args_c, **kwargs_c)
        state = {k: cr.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}
        try:
            cm.load_state_dict(state)
        except Exception as exc:
            return f"state_dict: {type(exc).__name__}: {str(exc)[:150]}"
        try:
            out_t = tm(*mi.forward_input.args, **mi.forward_input.kwargs)
        except Exception:
            return ""
        try:
            out_c = cm(*args_c, **kwargs_c)
        except Exception as exc:
            return f"forward raised {type(exc).__name__}: {str(exc)[:150]}"
        reason = compare(out_t, out_c, dtype)
        if reason or dtype != torch.float64:
            return reason
        outs_t, outs_c = flat_outputs(out_t), flat_outputs(out_c)
        weights = weights_for(outs_t, 0)
        if all(w is None for w in weights):
            return ""
        leaves_t = [t for t, _ in inputs if t.requires_grad] + list(tm.parameters())
        leaves_c = [c for t, c in inputs if t.requires_grad] + list(cm.parameters())
        names = ([f"input{i}" for i in range(len(leaves_t) - len(list(tm.parameters())))]
                 + [n for n, _ in tm.named_parameters()])
        if len(leaves_t) != len(leaves_c):
            return f"{len(leaves_c)} leaves, torch {len(leaves_t)}"
        loss_c = weighted_loss(outs_c, weights, cr)
        if not isinstance(loss_c, cr.Tensor) or not loss_c.requires_grad:
            return "output does not require grad"
        grads_t = torch.autograd.grad(weighted_loss(outs_t, weights, torch), leaves_t,
                                      allow_unused=True)
        try:
            grads_c = cr.autograd.grad(loss_c, leaves_c, allow_unused=True)
        except Exception as exc:
            return f"backward raised {type(exc).__name__}: {str(exc)[:150]}"
        for name, gt, gc, leaf in zip(names, grads_t, grads_c, leaves_t):
            gt = torch.zeros_like(leaf) if gt is None else gt
            gc = cr.zeros(tuple(leaf.shape), dtype=cr.float64) if gc is None else gc
            reason = compare(gt, gc, dtype)
            if reason:
                return f"grad of {name}: " + reason.split(": ", 1)[1]
    return ""


def _entries(db, cls_of, namespace, names, problems):
    """(info, class name) of a torch test database's entries chainrule's ``namespace`` has
    (among ``names`` when given); the others recorded in ``problems`` as missing."""
    for info in db:
        name = cls_of(info).__name__
        if names and name not in names:
            continue
        if not hasattr(namespace, name):
            problems[name].append("missing in chainrule")
            continue
        yield info, name


def run_modules(names=None, dtypes=("float32", "float64")):
    from torch.testing._internal.common_modules import module_db
    problems = collections.defaultdict(list)
    stats = collections.Counter()
    for info, name in _entries(module_db, lambda i: i.module_cls, cr.nn, names, problems):
        for dname in dtypes:
            dtype = DTYPES[dname]
            for training in (True, False):
                try:
                    inputs = list(info.module_inputs_func(info, device="cpu", dtype=dtype,
                                                          requires_grad=True, training=training))
                except Exception:
                    stats["sample error"] += 1
                    continue
                for k, mi in enumerate(inputs):
                    stats["cases"] += 1
                    try:
                        reason = module_case(info, mi, training, dtype)
                    except TypeError as exc:
                        if "unsupported tensor kind" in str(exc):
                            continue
                        reason = f"raised TypeError: {str(exc)[:150]}"
                    except Exception as exc:
                        reason = f"raised {type(exc).__name__}: {str(exc)[:150]}"
                    if reason:
                        mode = "train" if training else "eval"
                        problems[name].append(f"[{dname} {mode} #{k}] {reason} | "
                                              f"{mi.constructor_input.args} "
                                              f"{mi.constructor_input.kwargs}"[:400])
    return problems, stats


def optimizer_case(info, kwargs, dtype, steps=20):
    """'' when chainrule's optimizer moves the parameters as torch's over ``steps`` steps."""
    rng = np.random.default_rng(0)
    shapes = [(4, 3), (3,), ()] if info.optim_cls.__name__ != "Muon" else [(4, 3), (5, 2)]
    values = [rng.standard_normal(s) for s in shapes]
    tp = [torch.tensor(v, dtype=dtype, requires_grad=True) for v in values]
    cp = [cr.tensor(v, dtype=getattr(cr, str(dtype).split(".")[1]), requires_grad=True)
          for v in values]
    pairs = []
    kw_c = to_cr(kwargs, pairs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            to = info.optim_cls(tp, **kwargs)
        except Exception:
            return ""
        try:
            co = getattr(cr.optim, info.optim_cls.__name__)(cp, **kw_c)
        except Exception as exc:
            return f"constructor raised {type(exc).__name__}: {str(exc)[:150]}"
        for step in range(steps):
            grads = [rng.standard_normal(s) for s in shapes]

            def closure_t():
                to.zero_grad()
                loss = sum(((p - torch.tensor(g, dtype=dtype)) ** 2).sum() for p, g in
                           zip(tp, grads))
                loss.backward()
                return loss

            def closure_c():
                co.zero_grad()
                loss = sum(((p - cr.tensor(g, dtype=p.dtype)) ** 2).sum() for p, g in
                           zip(cp, grads))
                loss.backward()
                return loss

            to.step(closure_t) if info.step_requires_closure else (closure_t(), to.step())
            try:
                co.step(closure_c) if info.step_requires_closure else (closure_c(), co.step())
            except Exception as exc:
                return f"step {step} raised {type(exc).__name__}: {str(exc)[:150]}"
            for i, (a, b) in enumerate(zip(tp, cp)):
                reason = compare(a, b, dtype)
                if reason:
                    return f"step {step} param {i}: " + reason.split(": ", 1)[1]
    return ""


def run_optimizers(names=None, dtypes=("float32", "float64")):
    from torch.testing._internal.common_optimizers import optim_db
    problems = collections.defaultdict(list)
    stats = collections.Counter()
    for info, name in _entries(optim_db, lambda i: i.optim_cls, cr.optim, names, problems):
        for oi in info.optim_inputs_func(device="cpu"):
            if any(oi.kwargs.get(k) for k in ("foreach", "fused", "capturable", "differentiable")):
                continue
            for dname in dtypes:
                stats["cases"] += 1
                try:
                    reason = optimizer_case(info, oi.kwargs, DTYPES[dname])
                except Exception as exc:
                    reason = f"raised {type(exc).__name__}: {str(exc)[:150]}"
                if reason:
                    problems[name].append(f"[{dname} {oi.desc}] {reason} | {oi.kwargs}"[:400])
    return problems, stats


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ops", default="")
    parser.add_argument("--dtypes", default="float32,float64,int64,bool")
    parser.add_argument("--no-grad", action="store_true")
    parser.add_argument("--no-errors", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--modules", action="store_true", help="torch.nn's module_db instead")
    parser.add_argument("--optimizers", action="store_true", help="torch.optim's optim_db")
    parser.add_argument("--jvp", action="store_true",
                        help="also forward-mode tangents against torch.func.jvp (float64)")
    parser.add_argument("--reference", action="store_true",
                        help="the OpInfos' reference_inputs (more, and more extreme, samples)")
    args = parser.parse_args(argv)
    ops = set(args.ops.split(",")) if args.ops else None
    if args.optimizers:
        problems, stats = run_optimizers(ops, [d for d in args.dtypes.split(",")
                                               if d.startswith("float")])
    elif args.modules:
        problems, stats = run_modules(ops, [d for d in args.dtypes.split(",")
                                            if d.startswith("float")])
    else:
        problems, stats = run(ops, args.dtypes.split(","), not args.no_grad, not args.no_errors,
                              args.verbose, args.reference, args.jvp)
    for name in sorted(problems):
        print(f"== {name} ({len(problems[name])})")
        for line in problems[name][:6]:
            print("   ", line)
    print(dict(stats), file=sys.stderr)
    print(f"{len(problems)} ops with differences", file=sys.stderr)


if __name__ == "__main__":
    main()
