"""Gradient checking: analytic Jacobians (reverse mode, optionally forward mode) against
central finite differences  J[:, k] ≈ (f(x + ε e_k) − f(x − ε e_k)) / 2ε."""
from __future__ import annotations

import warnings

import numpy as np

from ..tensor import Tensor


class GradcheckError(RuntimeError):
    """An analytic Jacobian disagrees with the numerical one."""


def _outputs(fn, inputs):
    out = fn(*inputs)
    return out if isinstance(out, tuple) else (out,)


def _numerical(fn, inputs, eps):
    """Per (input i, output j): the (out_j.numel(), in_i.numel()) finite-difference Jacobian."""
    # fn runs with recording on: it may itself differentiate (gradgradcheck's first derivative)
    base = _outputs(fn, inputs)
    jac = [[np.zeros((o.numel(), x.numel())) for x in inputs] for o in base]
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            continue
        flat = x._data.reshape(-1)   # perturb in place, restore after
        for k in range(flat.size):
            orig = flat[k]
            flat[k] = orig + eps
            plus = [o._data.astype(np.float64).reshape(-1).copy() for o in _outputs(fn, inputs)]
            flat[k] = orig - eps
            minus = [o._data.astype(np.float64).reshape(-1).copy() for o in _outputs(fn, inputs)]
            flat[k] = orig
            for j in range(len(base)):
                jac[j][i][:, k] = (plus[j] - minus[j]) / (2 * eps)
    return jac


def _analytic_reverse(fn, inputs):
    from . import engine
    outs = _outputs(fn, inputs)
    wrt = [x for x in inputs if x.requires_grad]
    jac = [[np.zeros((o.numel(), x.numel())) for x in inputs] for o in outs]
    for j, o in enumerate(outs):
        if not o.requires_grad:
            continue
        for r in range(o.numel()):
            e = np.zeros(o.numel(), o._data.dtype)
            e[r] = 1
            grads = engine.grad(o, wrt, Tensor._make(e.reshape(o._data.shape)), retain_graph=True,
                                allow_unused=True)
            it = iter(grads)
            for i, x in enumerate(inputs):
                if x.requires_grad:
                    g = next(it)
                    if g is not None:
                        jac[j][i][r] = g._data.reshape(-1)
    return jac


def _analytic_forward(fn, inputs):
    from . import forward_ad as fwd
    outs0 = _outputs(fn, inputs)
    jac = [[np.zeros((o.numel(), x.numel())) for x in inputs] for o in outs0]
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            continue
        for k in range(x.numel()):
            e = np.zeros(x.numel(), x._data.dtype)
            e[k] = 1
            with fwd.dual_level():
                args = [fwd.make_dual(a, Tensor._make(e.reshape(a._data.shape))) if n == i else a
                        for n, a in enumerate(inputs)]
                for j, o in enumerate(_outputs(fn, args)):
                    t = fwd.unpack_dual(o).tangent
                    if t is not None:
                        jac[j][i][:, k] = t._data.reshape(-1)
    return jac


def _compare(numerical, analytic, atol, rtol, mode):
    for j, row in enumerate(numerical):
        for i, num in enumerate(row):
            ana = analytic[j][i]
            if not np.allclose(ana, num, rtol=rtol, atol=atol):
                return (f"Jacobian mismatch for output {j} with respect to input {i} ({mode} mode),\n"
                        f"numerical:{np.array2string(num, precision=6)}\n"
                        f"analytical:{np.array2string(ana, precision=6)}")
    return None


def gradcheck(fn, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              check_forward_ad=False, check_backward_ad=True, nondet_tol=0.0) -> bool:
    """Check the gradients of ``fn`` at ``inputs`` (a tensor or tuple) against central finite
    differences: reverse mode always (``check_backward_ad``), forward mode when
    ``check_forward_ad``. Inputs that require grad are checked; use float64 (a warning
    otherwise, since float32 differences are too coarse). Returns True, or raises
    GradcheckError naming the output/input pair with both Jacobians (or returns False when
    ``raise_exception=False``)."""
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    if not any(isinstance(x, Tensor) and x.requires_grad for x in inputs):
        raise ValueError("gradcheck: at least one input must be a Tensor with requires_grad=True")
    for x in inputs:
        if isinstance(x, Tensor) and x.requires_grad and x.dtype.name != "float64":
            warnings.warn(f"gradcheck: input of dtype {x.dtype} is not float64; finite differences "
                          "in single precision are unreliable", UserWarning, stacklevel=2)
    numerical = _numerical(fn, inputs, eps)
    problems = []
    if check_backward_ad:
        problems.append(_compare(numerical, _analytic_reverse(fn, inputs), atol, rtol, "reverse"))
    if check_forward_ad:
        problems.append(_compare(numerical, _analytic_forward(fn, inputs), atol, rtol, "forward"))
    problems = [p for p in problems if p]
    if problems:
        if raise_exception:
            raise GradcheckError("gradcheck: " + "\n".join(problems))
        return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, check_fwd_over_rev=False) -> bool:
    """Check second derivatives: gradcheck of (inputs, v) ↦ vᵀ ∂fn/∂inputs, built with
    ``create_graph=True`` (v random when ``grad_outputs`` is None)."""
    from . import engine
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    outs = _outputs(fn, inputs)
    rng = np.random.default_rng(0)
    if grad_outputs is None:
        grad_outputs = tuple(Tensor._make(rng.standard_normal(o._data.shape).astype(o._data.dtype))
                             .requires_grad_() for o in outs)
    grad_outputs = grad_outputs if isinstance(grad_outputs, tuple) else (grad_outputs,)
    n = len(inputs)
    diff = [x for x in inputs if x.requires_grad]

    def first_derivative(*args):
        xs, vs = args[:n], args[n:]
        os = _outputs(fn, xs)
        live = [(o, v) for o, v in zip(os, vs) if o.requires_grad]
        grads = engine.grad([o for o, _ in live], [x for x in xs if x.requires_grad],
                            [v for _, v in live], create_graph=True, allow_unused=True)
        return tuple(g if g is not None else Tensor._make(np.zeros(x.shape, x._data.dtype))
                     for g, x in zip(grads, diff))
    return gradcheck(first_derivative, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception, check_forward_ad=check_fwd_over_rev)
