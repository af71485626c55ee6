"""Export to ONNX (``torch.onnx``'s interface) and run in ONNX Runtime.

``chainrule.onnx.export(model, args, f, ...)`` captures one call of ``model`` as a graph of
primitives (:mod:`chainrule.fx`) and writes each primitive as ONNX nodes (the table in
:mod:`chainrule.onnx._ops`), so the model runs anywhere ONNX runs, without chainrule or
Python::

    import chainrule
    model = chainrule.models.LeNet5().eval()
    chainrule.onnx.export(model, chainrule.randn(1, 1, 28, 28), "lenet.onnx",
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})

    import onnxruntime                      # elsewhere: no chainrule needed
    session = onnxruntime.InferenceSession("lenet.onnx")
    logits, = session.run(None, {"input": images})

``chainrule.compile(model, backend="onnxruntime")`` does both in memory, for inference.
Needs the ``onnx`` extra: ``pip install chainrule[onnx]`` (onnx and onnxruntime), imported
only when used.
"""
from __future__ import annotations

from ._builder import UnsupportedOperatorError
from ._export import MIN_OPSET, export, to_model_proto
from ._ops import TABLE as _TABLE
from ..fx.compile import register_backend
from .runtime import compile_onnxruntime

__all__ = ["MIN_OPSET", "SUPPORTED_PRIMITIVES", "UnsupportedOperatorError", "export", "to_model_proto"]

#: Names of the primitives (:mod:`chainrule.ops` classes) that have an ONNX mapping.
SUPPORTED_PRIMITIVES = tuple(sorted(p.__name__ for p in _TABLE))
register_backend("onnxruntime", compile_onnxruntime)   # chainrule.compile(..., backend=...)
