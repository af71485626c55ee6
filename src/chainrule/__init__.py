"""chainrule: a deep-learning library built from first principles on NumPy, with PyTorch's API.

    import chainrule as cr
    x = cr.randn(4, 3, requires_grad=True)
    loss = (x.tanh() ** 2).sum()
    loss.backward()          # x.grad = ∂loss/∂x, by a chain of vector-Jacobian products
"""
import math as _math

from . import _argcompat, _dtype
from . import _device
from ._device import device, layout, strided
from ._memory_format import (channels_last, channels_last_3d, contiguous_format, memory_format,
                             preserve_format)
from ._dtype import (bfloat16, bool_ as bool, dtype, float16, float32, float64, get_default_dtype,
                     int8, int16, int32, int64, promote_types, result_type, uint8)
from .tensor import Size, Tensor
from .tensor import _LEGACY_TYPES as _legacy_types
from ._dtype import can_cast, finfo, iinfo
from ._printing import set_printoptions
from .creation import (arange, as_tensor, bernoulli, binomial, empty, empty_like, eye, from_numpy,
                       full, full_like, linspace, logspace, multinomial, normal, ones, ones_like,
                       poisson, rand,
                       rand_like, randint, randint_like, randn, randn_like, randperm, tensor,
                       tril_indices, triu_indices, zeros, zeros_like)
from .creation import (asarray, bartlett_window, blackman_window, empty_strided, hamming_window,
                       hann_window, kaiser_window)
from .creation import empty_permuted
from .random import (Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed,
                     set_rng_state)
from .ops import *  # noqa: F401,F403  (the differentiable functions: add, matmul, softmax, ...)
from ._functional_aliases import takes_two_numbers as _takes_two_numbers  # noqa: E402
for _name in ("add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide",
              "floor_divide"):
    globals()[_name] = _takes_two_numbers(globals()[_name])
del _name, _takes_two_numbers
del linalg   # the star import's ops.linalg (matmul's module); chainrule.linalg is torch.linalg's
from . import linalg  # noqa: E402
from .ops.matrix import tensor_norm as norm  # noqa: E402
from ._lowrank import pca_lowrank, svd_lowrank  # noqa: E402
from ._lobpcg import lobpcg  # noqa: E402
from . import autograd
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .autograd import is_anomaly_check_nan_enabled, is_anomaly_enabled
from ._modes import (are_deterministic_algorithms_enabled,  # noqa: E402
                     get_deterministic_debug_mode, is_deterministic_algorithms_warn_only_enabled,
                     set_deterministic_debug_mode, use_deterministic_algorithms)
from ._modes import get_float32_matmul_precision, set_float32_matmul_precision  # noqa: E402
from ._modes import (get_num_interop_threads, is_warn_always_enabled,  # noqa: E402
                     set_num_interop_threads, set_warn_always)
from .backends.fpstate import set_flush_denormal  # noqa: E402
from .backends.blas import get_num_threads, set_num_threads
from . import cuda, viz
from . import nn, optim, utils, train  # modules, optimizers, data loading, the training loop
from .nn.functional import cosine_similarity, pairwise_distance, pdist  # noqa: E402 (torch.X too)
from . import data, datasets, func, metrics, models, vision
from .func import vmap  # noqa: E402  (torch.vmap is torch.func.vmap)
from . import distributed  # torch.distributed over MPI (mpi4py imported on first use)
from . import fx  # graph capture and replay (torch.fx / torch.compile)
from .fx import compile  # noqa: E402
from . import library  # noqa: E402  (torch.library: user-defined operators)
from . import multiprocessing  # noqa: E402  (torch.multiprocessing: shared tensors, spawn)
from . import onnx  # export to ONNX, run in ONNX Runtime (onnx imported on first use)
from . import profiler  # noqa: E402  (torch.profiler: where the time goes, op by op)
from .serialization import from_dlpack, load, save
from .summary import summary
del special   # the star import's ops.special; chainrule.special is torch.special's namespace
from . import special  # noqa: E402
from . import signal  # noqa: E402  (torch.signal.windows)
from . import testing  # noqa: E402  (torch.testing: assert_close, make_tensor)
from .autograd import functional as _functional  # cr.autograd.functional needs cr.func first
# torch's mode, default and accelerator queries (see chainrule._modes, _dtype, _device)
from ._modes import inference_mode, is_inference_mode_enabled  # noqa: E402
from ._dtype import set_default_dtype  # noqa: E402
from ._device import get_default_device, set_default_device  # noqa: E402
from . import accelerator  # noqa: E402
from . import distributions  # noqa: E402  (torch.distributions: Normal, Categorical, ...)
from . import return_types  # noqa: E402  (torch.return_types: max, sort, topk, ...)
from ._legacy import range, set_default_tensor_type, unravel_index  # noqa: E402
from ._functional_aliases import (alpha_dropout, avg_pool1d, bilinear, celu,  # noqa: E402
                                  conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d,
                                  conv_transpose3d, dropout, embedding, feature_alpha_dropout,
                                  hardshrink, layer_norm, max_pool1d, max_pool2d, max_pool3d,
                                  pixel_shuffle, pixel_unshuffle, prelu, rms_norm, rrelu, selu,
                                  threshold)
from ._functional_aliases import (  # noqa: E402  (torch's top-level losses take an int reduction)
    alpha_dropout_, batch_norm, binary_cross_entropy_with_logits, celu_, channel_shuffle,
    cosine_embedding_loss, ctc_loss, dropout_, feature_alpha_dropout_, group_norm,
    hinge_embedding_loss, instance_norm, kl_div, margin_ranking_loss, poisson_nll_loss, rrelu_,
    selu_, threshold_, triplet_margin_loss)
from ._functional_aliases import (native_batch_norm, native_dropout,  # noqa: E402
                                  native_group_norm, native_layer_norm)
from ._functional_aliases import (adaptive_avg_pool1d, adaptive_max_pool1d,  # noqa: E402
                                  embedding_bag, feature_dropout, feature_dropout_)
from . import amp  # noqa: E402  (torch.amp: autocast and GradScaler; no casts, see chainrule.amp)
from .amp import GradScaler, autocast  # noqa: E402
from .amp.autocast_mode import get_autocast_dtype, is_autocast_enabled  # noqa: E402

half, float, double = float16, float32, float64
(FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor,
 BoolTensor) = (_legacy_types[n] for n in ("FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor",
                                           "IntTensor", "ShortTensor", "CharTensor", "ByteTensor",
                                           "BoolTensor"))
pi, e, inf, nan, newaxis = _math.pi, _math.e, _math.inf, _math.nan, None
short, int, long = int16, int32, int64

__version__ = "0.1.0"


def is_tensor(obj) -> bool:
    """True if ``obj`` is a chainrule Tensor."""
    return isinstance(obj, Tensor)


def typename(obj, /) -> str:
    """The fully qualified name of ``obj``'s type: a tensor's legacy type name
    ('chainrule.FloatTensor', as :meth:`Tensor.type`), a class's or function's own path
    ('chainrule.nn.modules.linear.Linear'), builtins bare ('int')."""
    return obj.type() if isinstance(obj, Tensor) else _argcompat.qualified_name(obj)


def is_floating_point(input) -> bool:
    return input.is_floating_point()


def numel(input) -> int:
    return input.numel()


def is_complex(input) -> bool:
    """False: chainrule has no complex dtypes."""
    return input.is_complex()


def real(input):
    """The real part of ``input``: a real tensor itself (as torch.real)."""
    return input.real


def scalar_tensor(s, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """A 0-d tensor holding the number ``s``, of the default float dtype unless ``dtype`` says
    otherwise (also for ints and bools, unlike :func:`tensor`). Shape: ()."""
    _device.check_factory("scalar_tensor", device, layout, pin_memory)
    if isinstance(s, Tensor):
        s = s.item()
    return full((), s, dtype=get_default_dtype() if dtype is None else dtype, layout=layout,
                device=device, requires_grad=requires_grad, pin_memory=pin_memory)

del _functional


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Turn anomaly detection on or off (``autograd.set_detect_anomaly`` without a scope)."""
    autograd.set_detect_anomaly(enabled, check_nan)


from . import _op_namespaces  # noqa: E402
# torch.ops' operator namespaces (torch.ops.aten.mm, ...) on chainrule.ops, the package of the
# primitives they run; set here, at the top, because they reach up to nn.functional
ops.aten, ops.prims, ops.prim = _op_namespaces.aten, _op_namespaces.prims, _op_namespaces.prim
del _op_namespaces
