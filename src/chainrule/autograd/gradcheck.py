"""Gradient checking (mirrors ``torch.autograd.gradcheck`` / ``gradgradcheck``).

For f with inputs x_i and outputs y_j, every Jacobian block J_ji = ∂y_j/∂x_i (shape
numel(y_j) × numel(x_i)) is built three ways and compared entry by entry,
|analytic − numerical| ≤ atol + rtol·|numerical|:

* numerically, one column per input entry by central differences,
      J[:, k] ≈ (f(x + ε e_k) − f(x − ε e_k)) / 2ε        (error O(ε²));
* by reverse mode, one row per output entry: e_rᵀJ is a VJP (one backward pass);
* by forward mode (``check_forward_ad``), one column per input entry: J e_k is a JVP.

Finite differences need float64: in float32 the rounding error ~1e-7/ε swamps the derivative,
hence the warning for other dtypes.
"""
from __future__ import annotations

import warnings

import numpy as np

from .._backprop import grad as _grad
from ..tensor import Tensor
from ..creation import randn_like
from ..ops import stack
from ..testing import make_tensor
from . import forward_ad as fwd


class GradcheckError(RuntimeError):
    """An analytic Jacobian disagrees with the numerical one."""


def _differentiable(o):
    return isinstance(o, Tensor) and o.is_floating_point()


def _outputs(fn, inputs):
    """fn's floating-point Tensor outputs (integer or non-Tensor outputs have no Jacobian)."""
    out = fn(*inputs)
    return [o for o in (out if isinstance(out, tuple) else (out,)) if _differentiable(o)]


def _wrt(x):
    return isinstance(x, Tensor) and x.requires_grad


def _empty(outs, inputs):
    """One zero block per (output j, input i): numel(y_j) × numel(x_i)."""
    return [[np.zeros((o.numel(), x.numel() if _wrt(x) else 0)) for x in inputs] for o in outs]


def _numerical(fn, inputs, eps):
    """Central differences, perturbing each entry of each differentiable input in place."""
    # fn runs with recording on: it may itself differentiate (gradgradcheck's first derivative)
    base = _outputs(fn, inputs)
    jac = _empty(base, inputs)
    for i, x in enumerate(inputs):
        if not _wrt(x):
            continue
        data = x._data   # index the array itself: works for non-contiguous inputs too
        for k, idx in enumerate(np.ndindex(data.shape)):
            orig = data[idx]
            data[idx] = orig + eps
            plus = [o._data.astype(np.float64).ravel() for o in _outputs(fn, inputs)]
            data[idx] = orig - eps
            minus = [o._data.astype(np.float64).ravel() for o in _outputs(fn, inputs)]
            data[idx] = orig
            for j, (p, m) in enumerate(zip(plus, minus)):
                jac[j][i][:, k] = (p - m) / (2 * eps)
    return jac, base


def _analytic_reverse(fn, inputs, nondet_tol):
    """Row r of J_j· is the VJP with the basis cotangent e_r: one backward pass per output entry.
    Two more VJPs with one random cotangent must agree within ``nondet_tol`` (reentrancy)."""
    outs = _outputs(fn, inputs)
    wrt = [x for x in inputs if _wrt(x)]
    jac = _empty(outs, inputs)
    problems = []

    def vjp(o, cot):
        grads = _grad(o, wrt, Tensor._make(cot.reshape(o._data.shape)), retain_graph=True,
                            allow_unused=True)
        rows = {}
        it = iter(grads)
        for i, x in enumerate(inputs):
            if _wrt(x):
                g = next(it)
                if g is not None and tuple(g.shape) != tuple(x.shape):
                    raise GradcheckError(f"gradcheck: the gradient of input {i} has shape "
                                         f"{tuple(g.shape)}, expected {tuple(x.shape)}")
                rows[i] = None if g is None else g._data.astype(np.float64).ravel()
        return rows

    for j, o in enumerate(outs):
        if not o.requires_grad:
            continue   # an output that does not depend on the inputs: its analytic J is 0
        for r in range(o.numel()):
            e = np.zeros(o.numel(), o._data.dtype)
            e[r] = 1
            for i, row in vjp(o, e).items():
                if row is not None:
                    jac[j][i][r] = row
        v = np.random.default_rng(j).standard_normal(o.numel()).astype(o._data.dtype)
        first, second = vjp(o, v), vjp(o, v)
        for i, a in first.items():
            b = second[i]
            if (a is None) != (b is None) or (a is not None and np.abs(a - b).max(initial=0) > nondet_tol):
                gap = "one is None" if a is None or b is None else f"{np.abs(a - b).max():.3g}"
                problems.append(f"Backward is not reentrant for output {j} with respect to input "
                                f"{i}: two VJPs with the same cotangent differ by {gap} "
                                f"(nondet_tol={nondet_tol})")
    return jac, problems


def _analytic_forward(fn, inputs):
    """Column k of J_·i is the JVP with the basis tangent e_k: one forward pass per input entry."""
    outs0 = _outputs(fn, inputs)
    jac = _empty(outs0, inputs)
    for i, x in enumerate(inputs):
        if not _wrt(x):
            continue
        for k in range(x.numel()):
            e = np.zeros(x.numel(), x._data.dtype)
            e[k] = 1
            with fwd.dual_level():
                args = list(inputs)
                args[i] = fwd.make_dual(x, Tensor._make(e.reshape(x._data.shape)))
                for j, o in enumerate(_outputs(fn, args)):
                    t = fwd.unpack_dual(o).tangent
                    if t is not None:
                        jac[j][i][:, k] = t._data.astype(np.float64).ravel()
    return jac


def _compare(numerical, analytic, atol, rtol, mode, shapes):
    for j, row in enumerate(numerical):
        for i, num in enumerate(row):
            ana = analytic[j][i]
            if num.size == 0 or np.allclose(ana, num, rtol=rtol, atol=atol):
                continue
            excess = np.abs(ana - num) - (atol + rtol * np.abs(num))
            r, k = np.unravel_index(np.argmax(excess), num.shape)
            out_shape, in_shape = shapes[j], shapes[len(numerical) + i]
            pos = lambda flat, shape: [int(p) for p in np.unravel_index(flat, shape)]
            where = (f"worst entry: ∂output{j}{pos(r, out_shape)} / "
                     f"∂input{i}{pos(k, in_shape)}: numerical {num[r, k]:.6g}, "
                     f"analytical {ana[r, k]:.6g}")
            return (f"Jacobian mismatch for output {j} with respect to input {i} ({mode} mode),\n"
                    f"numerical:{np.array2string(num, precision=6)}\n"
                    f"analytical:{np.array2string(ana, precision=6)}\n{where}")
    return None


def _batched_grad_problems(fn, inputs):
    """torch's ``check_batched_grad``: per output that requires grad, two random cotangents
    (``randn_like``, from the global generator as torch draws them) through one
    ``autograd.grad(..., is_grads_batched=True)`` must give the two separate VJPs."""
    diff = [x for x in inputs if _wrt(x)]
    problems = []
    for j, o in enumerate(o for o in _outputs(fn, inputs) if o.requires_grad):
        vs = [randn_like(o) for _ in range(2)]
        single = [_grad([o], diff, [v], retain_graph=True, allow_unused=True) for v in vs]
        batched = _grad([o], diff, [stack(vs)], retain_graph=True, allow_unused=True,
                        is_grads_batched=True)
        for i, (b, x) in enumerate(zip(batched, diff)):
            rows = [np.zeros(x.shape) if g[i] is None else g[i]._data for g in single]
            got = np.zeros((2,) + tuple(x.shape)) if b is None else b._data
            if not np.allclose(got, np.stack(rows)):
                problems.append(f"batched gradient mismatch for output {j} with respect to "
                                f"differentiable input {i} (is_grads_batched=True vs two VJPs)")
    return problems


def _check(fn, inputs, eps, atol, rtol, raise_exception, check_forward_ad, check_backward_ad,
           nondet_tol, label, check_batched_grad=False):
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    if not any(_wrt(x) for x in inputs):
        raise ValueError(f"{label}: at least one input must be a Tensor with requires_grad=True")
    for i, x in enumerate(inputs):
        if _wrt(x) and x.dtype.name != "float64":
            warnings.warn(f"{label}: input {i} requires grad and is {x.dtype}, not float64; finite "
                          "differences in single precision are unreliable and the check will "
                          "likely fail", UserWarning, stacklevel=3)
    numerical, outs = _numerical(fn, inputs, eps)
    shapes = ([tuple(o.shape) for o in outs]
              + [tuple(x.shape) if isinstance(x, Tensor) else () for x in inputs])
    problems = []
    if check_backward_ad:
        analytic, reentrant = _analytic_reverse(fn, inputs, nondet_tol)
        problems += [_compare(numerical, analytic, atol, rtol, "reverse", shapes)] + reentrant
    if check_forward_ad:
        problems.append(_compare(numerical, _analytic_forward(fn, inputs), atol, rtol, "forward",
                                 shapes))
    problems = [p for p in problems if p]
    if check_batched_grad and check_backward_ad and not problems:
        problems = _batched_grad_problems(fn, inputs)
    if problems:
        if raise_exception:
            raise GradcheckError(f"{label}: " + "\n".join(problems))
        return False
    return True


def gradcheck(fn, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              check_forward_ad=False, check_backward_ad=True, nondet_tol=0.0, fast_mode=False,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, masked=None) -> bool:
    """Check the derivatives of ``fn`` at ``inputs`` (a tensor or a tuple; entries that are
    Tensors with requires_grad are differentiated, the rest passed through) against central
    finite differences with step ``eps``.

    Reverse mode (``check_backward_ad``): J built row by row from VJPs; forward mode
    (``check_forward_ad``): column by column from JVPs. Each block must satisfy
    |analytic − numerical| ≤ atol + rtol·|numerical|. Returns True; on a mismatch raises
    :class:`GradcheckError` naming the output/input pair with both Jacobians and the worst entry
    (or returns False when ``raise_exception=False``). Use float64 inputs (a warning otherwise).
    ``check_batched_grad``: two random cotangents per output through
    ``grad(..., is_grads_batched=True)`` must match two separate VJPs (drawn as torch draws
    them). ``fast_mode`` and the undefined-grad/dtype/masked/batched-forward flags are accepted
    for torch compatibility; the full Jacobians are always compared.
    """
    return _check(fn, inputs, eps, atol, rtol, raise_exception, check_forward_ad,
                  check_backward_ad, nondet_tol, "gradcheck", check_batched_grad)


def gradgradcheck(fn, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False) -> bool:
    """Check second derivatives: :func:`gradcheck` of the first derivative
    g(x, v) = vᵀ ∂fn/∂x (built with ``create_graph=True``), as a function of both the inputs x
    and the cotangents v (uniform on [-1, 1) from the global generator, as torch draws them,
    when ``grad_outputs`` is None). Reverse-over-reverse
    (``check_rev_over_rev``) and forward-over-reverse (``check_fwd_over_rev``)."""
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    outs = _outputs(fn, inputs)
    if grad_outputs is None:   # torch's draw: uniform on [-1, 1) from the global generator
        grad_outputs = tuple(make_tensor(tuple(o.shape), dtype=o.dtype, device="cpu", low=-1,
                                         high=1, requires_grad=True,
                                         noncontiguous=gen_non_contig_grad_outputs)
                             for o in outs)
    grad_outputs = grad_outputs if isinstance(grad_outputs, tuple) else (grad_outputs,)
    if len(grad_outputs) != len(outs):
        raise ValueError(f"gradgradcheck: got {len(grad_outputs)} grad_outputs for {len(outs)} "
                         "differentiable outputs")
    n = len(inputs)
    diff = [x for x in inputs if _wrt(x)]

    def first_derivative(*args):
        xs, vs = args[:n], args[n:]
        os = _outputs(fn, xs)
        live = [(o, v) for o, v in zip(os, vs) if o.requires_grad]
        zeros = lambda x: Tensor._make(np.zeros(x._data.shape, x._data.dtype))
        if not live:
            return tuple(zeros(x) for x in diff)
        grads = _grad([o for o, _ in live], [x for x in xs if _wrt(x)],
                            [v for _, v in live], create_graph=True, allow_unused=True)
        return tuple(g if g is not None else zeros(x) for g, x in zip(grads, diff))
    return _check(first_derivative, tuple(inputs) + tuple(grad_outputs), eps, atol, rtol,
                  raise_exception, check_fwd_over_rev, check_rev_over_rev, nondet_tol,
                  "gradgradcheck", check_batched_grad)
