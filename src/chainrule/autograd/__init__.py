"""Automatic differentiation: the graph engine (``backward``, ``grad``), grad-mode switches,
forward mode (``forward_ad``), custom functions (``Function``), the older profiler interface
(``profiler``)."""
from .._backprop import backward, grad
from . import forward_ad, grad_mode, graph, profiler
from .graph import Node
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .grad_mode import (is_multithreading_enabled, is_view_replay_enabled,
                        set_multithreading_enabled)
from .function import Function, FunctionCtx
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .variable import Variable
from ..tensor import Tensor as _Tensor
from .anomaly_mode import (detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled,
                           set_detect_anomaly)

__all__ = ["backward", "grad", "Function", "FunctionCtx", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled", "forward_ad", "functional", "Node",
           "gradcheck", "gradgradcheck", "GradcheckError", "Variable",
           "inference_mode", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled", "is_multithreading_enabled", "is_view_replay_enabled",
           "set_multithreading_enabled", "is_tensor_like"]


def is_tensor_like(inp) -> bool:
    """True for a chainrule Tensor (or subclass) and for any object whose type defines
    ``__torch_function__``, as torch's test."""
    return isinstance(inp, _Tensor) or hasattr(inp, "__torch_function__")
