"""``repr`` of a tensor in torch's style: ``tensor([1.5000, 2.0000], requires_grad=True)``."""
from __future__ import annotations

import numpy as np

from . import _dtype

_DEFAULT_DTYPES = (_dtype.float32, _dtype.int64, _dtype.bool_)


def _float_formatter(values: np.ndarray):
    finite = values[np.isfinite(values)]
    absf = np.abs(finite)
    if finite.size and np.all(finite == np.round(finite)) and absf.max() < 1e8:
        def fmt(v):
            return f"{v:.0f}." if np.isfinite(v) else str(v)
    elif finite.size and (absf.max() >= 1e8 or (absf[absf > 0].size and absf[absf > 0].min() < 1e-4)):
        def fmt(v):
            return f"{v:.4e}" if np.isfinite(v) else str(v)
    else:
        def fmt(v):
            return f"{v:.4f}" if np.isfinite(v) else str(v)
    sample = values if values.size <= 1000 else np.concatenate([values[:3], values[-3:]])
    width = max((len(fmt(v)) for v in sample.ravel()), default=0)
    return lambda v: fmt(v).rjust(width)


def tensor_repr(t) -> str:
    data = t._data
    prefix = "tensor("
    if data.dtype.kind == "f":
        formatter = {"float_kind": _float_formatter(data.astype(np.float64))}
    elif data.dtype.kind == "b":
        formatter = {"bool": lambda v: " True" if v else "False"}
    else:
        formatter = None
    if data.size == 0:
        body = "[]"
    else:
        body = np.array2string(data, separator=", ", prefix=prefix, formatter=formatter,
                               threshold=1000, edgeitems=3, max_line_width=80)
    extras = []
    if data.size == 0 and data.shape != (0,):
        extras.append(f"size={tuple(data.shape)}")
    dt = t.dtype
    if dt not in _DEFAULT_DTYPES:
        extras.append(f"dtype={dt!r}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return prefix + body + "".join(", " + e for e in extras) + ")"
