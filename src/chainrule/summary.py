"""``chainrule.summary``: a model's layers in a table — output shapes, parameters, multiply-adds,
memory — from one forward pass on a zero batch (in the manner of torchinfo).

Multiply-adds count the products of the layers that do them: a linear layer
N·out·in (N the rows of its input), a convolution out.numel()·(in/groups)·∏kernel, and the
recurrent, bilinear and embedding-free layers are counted by their parameters used once per
output row. Memory: the input, every layer's output (kept for backward, ×2 with its gradient)
and the parameters, in MB (2²⁰ bytes), as torchinfo reports it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import creation
from .autograd import no_grad
from .nn import modules as _m


@dataclass
class LayerRow:
    """One line of the table."""
    name: str            # the module's path in the model ("features.0")
    kind: str            # its class ("Conv2d")
    depth: int
    output_shape: tuple
    params: int
    trainable: int
    mult_adds: int


def _mult_adds(module, inputs, output) -> int:
    if isinstance(module, _m.Linear):
        rows = math.prod(output.shape[:-1]) if output.ndim > 1 else 1
        return rows * module.in_features * module.out_features
    if type(module).__name__.startswith(("Conv", "ConvTranspose")) and hasattr(module, "weight"):
        w = module.weight
        per_output = math.prod(w.shape[1:])          # (in/groups) · ∏kernel
        if type(module).__name__.startswith("ConvTranspose"):
            x = inputs[0]
            return x.numel() * math.prod(w.shape[1:])
        return output.numel() * per_output
    own = sum(p.numel() for p in module.parameters(recurse=False))
    if own and output is not None and hasattr(output, "shape") and output.ndim:
        return own * max(1, output.shape[0])        # e.g. norms: a scale and shift per row
    return 0


class ModelSummary:
    """The result of :func:`summary`: ``rows`` (one :class:`LayerRow` per module that ran, in
    call order), totals, and the table as ``str(summary)`` or HTML in Jupyter."""

    def __init__(self, model, all_rows, shown, input_shapes, dtype_bytes):
        self.model, self.rows = model, shown
        params = list(model.parameters())
        self.total_params = sum(p.numel() for p in params)
        self.trainable_params = sum(p.numel() for p in params if p.requires_grad)
        self.total_mult_adds = sum(r.mult_adds for r in all_rows)
        mb = 2 ** 20
        self.input_size_mb = sum(math.prod(s) for s in input_shapes) * dtype_bytes / mb
        modules = dict(model.named_modules())
        # the outputs of the innermost layers are what backward keeps (and their gradients)
        outputs = sum(math.prod(r.output_shape) for r in all_rows
                      if not any(True for _ in modules[r.name].children()))
        self.forward_backward_mb = 2 * outputs * dtype_bytes / mb
        self.params_mb = sum(p.numel() * p.element_size() for p in params) / mb
        self.total_mb = self.input_size_mb + self.forward_backward_mb + self.params_mb

    def _lines(self):
        header = ("Layer (type:depth-idx)", "Output Shape", "Param #", "Mult-Adds")
        body = [("  " * r.depth + f"{r.kind}: {r.depth}" + (f" ({r.name})" if r.name else ""),
                 str(list(r.output_shape)), f"{r.params:,}" if r.params else "--",
                 f"{r.mult_adds:,}" if r.mult_adds else "--") for r in self.rows]
        return header, body

    def __str__(self):
        header, body = self._lines()
        widths = [max(len(row[i]) for row in [header] + body) + 2 for i in range(4)]
        rule = "=" * sum(widths)
        fmt = lambda row: "".join(c.ljust(w) if i == 0 else c.rjust(w)
                                  for i, (c, w) in enumerate(zip(row, widths)))
        lines = [rule, fmt(header), rule] + [fmt(row) for row in body] + [rule]
        lines += [f"Total params: {self.total_params:,}",
                  f"Trainable params: {self.trainable_params:,}",
                  f"Non-trainable params: {self.total_params - self.trainable_params:,}",
                  f"Total mult-adds (M): {self.total_mult_adds / 1e6:.2f}", rule,
                  f"Input size (MB): {self.input_size_mb:.2f}",
                  f"Forward/backward pass size (MB): {self.forward_backward_mb:.2f}",
                  f"Params size (MB): {self.params_mb:.2f}",
                  f"Estimated Total Size (MB): {self.total_mb:.2f}", rule]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self):
        from html import escape
        header, body = self._lines()
        cells = lambda row, tag: "".join(f"<{tag}>{escape(c)}</{tag}>" for c in row)
        rows = "".join(f"<tr>{cells(r, 'td')}</tr>" for r in body)
        totals = (f"<p>Total params: {self.total_params:,} · trainable {self.trainable_params:,}"
                  f" · mult-adds {self.total_mult_adds / 1e6:.2f} M · estimated total "
                  f"{self.total_mb:.2f} MB</p>")
        return (f"<table><thead><tr>{cells(header, 'th')}</tr></thead><tbody>{rows}</tbody>"
                f"</table>{totals}")


def summary(model, input_size=None, *, input_data=None, dtype=None, depth: int = 3):
    """Run ``model`` once on zeros of ``input_size`` (a shape, or a list of shapes for several
    inputs; or on ``input_data``) under ``no_grad`` and tabulate every module that ran: its
    output shape, parameters and multiply-adds, with totals and a memory estimate. Modules
    deeper than ``depth`` are left out of the table (their counts still add up in totals).

    >>> print(chainrule.summary(chainrule.models.LeNet5(), (1, 1, 28, 28)))
    """
    if input_data is None:
        if input_size is None:
            raise ValueError("summary: give input_size (a shape or a list of shapes) or "
                             "input_data")
        shapes = [tuple(input_size)] if isinstance(input_size[0], int) else [tuple(s) for s in input_size]
        inputs = [creation.zeros(*s, dtype=dtype) for s in shapes]
    else:
        inputs = list(input_data) if isinstance(input_data, (list, tuple)) else [input_data]
        shapes = [tuple(x.shape) for x in inputs]
    names = {id(m): name for name, m in model.named_modules()}
    rows, handles = [], []

    def hook(module, args, output):
        name = names.get(id(module), "")
        level = name.count(".") + 1 if name else 0
        out = output[0] if isinstance(output, (tuple, list)) else output
        shape = tuple(out.shape) if hasattr(out, "shape") else ()
        own = list(module.parameters(recurse=False))
        rows.append(LayerRow(name, type(module).__name__, level, shape,
                             sum(p.numel() for p in own),
                             sum(p.numel() for p in own if p.requires_grad),
                             _mult_adds(module, args, out)))

    for module in model.modules():
        handles.append(module.register_forward_hook(hook))
    try:
        with no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
    # hooks fire child-first; the table reads top-down, parents before their children
    order = {name: i for i, (name, _) in enumerate(model.named_modules())}
    rows.sort(key=lambda r: order.get(r.name, -1))
    dtype_bytes = np.dtype(inputs[0]._data.dtype).itemsize if inputs else 4
    return ModelSummary(model, rows, [r for r in rows if r.depth <= depth], shapes, dtype_bytes)
