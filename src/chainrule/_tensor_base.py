"""What every layer may know about a tensor: its array, its autograd fields, its metadata.

:class:`TensorBase` is the data structure alone. The Tensor users see
(:class:`chainrule.tensor.Tensor`) adds the operations on top of it from the method table in
:mod:`chainrule.ops`, so the primitives and the engine below it test ``isinstance(x,
TensorBase)`` and make new tensors with ``like._make(array)`` from a tensor they were given:
that way nothing below the Tensor class has to import it (imports point one way).
"""
from __future__ import annotations

import mmap
import os
import tempfile
import weakref
import warnings

import numpy as np

from . import _dtype, _memory_format
from ._device import CPU, check_device, device as _device_type, is_device_like, strided
from ._dtype import from_numpy_dtype
from ._modes import STATE, TRACE



# id of an array in shared memory (made by Tensor.share_memory_, or received by
# chainrule.multiprocessing) -> the file descriptor of that memory, which is what another
# process is handed; an entry, and its descriptor, go when the array does
SHARED_FDS: dict = {}


def shared_root(array):
    """The array in shared memory that ``array`` views, or None."""
    while isinstance(array, np.ndarray):
        if id(array) in SHARED_FDS:
            return array
        array = array.base
    return None


def shared_array(fd, nbytes, dtype):
    """A 1-D array of ``dtype`` over the ``nbytes`` of shared memory behind ``fd`` (kept open
    while the array lives)."""
    buffer = mmap.mmap(fd, max(nbytes, 1))
    array = np.frombuffer(buffer, dtype, count=nbytes // np.dtype(dtype).itemsize)
    SHARED_FDS[id(array)] = fd
    weakref.finalize(array, _release_fd, id(array), fd)
    return array


def new_shared_memory(nbytes) -> int:
    """A file descriptor of ``nbytes`` of anonymous memory any process holding it can map:
    a memfd on Linux, an unlinked temporary file elsewhere. The memory is freed when the last
    descriptor and mapping are gone, so no name is left behind."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("chainrule-tensor", 0)
    else:
        with tempfile.TemporaryFile() as f:
            fd = os.dup(f.fileno())
    os.ftruncate(fd, max(nbytes, 1))
    return fd


def _release_fd(key, fd):
    SHARED_FDS.pop(key, None)
    os.close(fd)


class Size(tuple):
    """A tensor's shape: a tuple of ints (``torch.Size``)."""

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"chainrule.Size({list(self)})"

    # as torch.Size: a slice, a concatenation with a tuple and a repetition are Sizes too
    def __getitem__(self, key):
        item = tuple.__getitem__(self, key)
        return Size(item) if isinstance(key, slice) else item

    def __add__(self, other):
        return Size(tuple.__add__(self, other)) if isinstance(other, tuple) else NotImplemented

    def __radd__(self, other):
        return Size(tuple.__add__(other, self)) if isinstance(other, tuple) else NotImplemented

    def __mul__(self, n):
        return Size(tuple.__mul__(self, n))

    __rmul__ = __mul__



def memory_root(a: np.ndarray) -> np.ndarray:
    """The array owning the memory ``a`` views: its chain of bases followed to the end, also
    through the stand-in object NumPy's ``as_strided`` puts between a view and its base."""
    root = a
    while True:
        base = root.base
        if not isinstance(base, np.ndarray) and hasattr(base, "__array_interface__"):
            base = getattr(base, "base", None)   # as_strided's DummyArray holds the base
        if not isinstance(base, np.ndarray):
            return root
        root = base

class TensorBase:
    """An n-d NumPy array ``_data`` plus the fields reverse and forward mode need."""

    __array_priority__ = 1000  # numpy_array + tensor defers to Tensor.__radd__

    # defaults shared by all instances; _make sets only what differs
    _requires_grad = False  # read through ``requires_grad``; chainrule's own code sets it directly
    _grad = None
    grad_fn = None        # the node that produced this tensor (None for leaves)
    _base = None          # the tensor this one is a view of
    _base_fn = None       # a recorded view: its base's grad_fn when the view's history was taken
    _fw_tangent = None    # forward-mode tangent (inside forward_ad.dual_level)
    _accumulator = None   # weak reference to this leaf's AccumulateGrad node
    _hooks = None         # gradient hooks of a leaf
    _post_acc_hooks = None  # hooks called with a leaf once its .grad is accumulated
    _retains_grad = False
    _is_inference = False  # made inside inference_mode()
    _unshared = False     # a fresh gradient from a VJP that nothing else holds: the engine may
                          # adopt it as a leaf's .grad instead of copying it

    @property
    def grad(self):
        """∂L/∂self after ``backward()`` (None before); assignable, with torch's checks. Read on a
        non-leaf that does not retain its gradient, it warns as torch (``w = w - lr * w.grad``
        turned ``w`` into such a tensor: its .grad stays None)."""
        g = self._grad
        if g is None and self.grad_fn is not None and not self._retains_grad:
            warnings.warn("The .grad attribute of a Tensor that is not a leaf Tensor is being "
                          "accessed. Its .grad attribute won't be populated during "
                          "autograd.backward(). If you indeed want the .grad field to be populated "
                          "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If "
                          "you access the non-leaf Tensor by mistake, make sure you access the "
                          "leaf Tensor instead.", UserWarning, stacklevel=2)
        return g

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, TensorBase):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"assigned grad has data of a different size: expected "
                                   f"{tuple(self._data.shape)}, got {tuple(value._data.shape)}")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: expected "
                                   f"{self.dtype}, got {value.dtype}")
        self._grad = value

    # ------------------------------------------------------------------ metadata
    @property
    def requires_grad(self) -> bool:
        """Whether gradients are recorded for this tensor. Set on leaves only, and True only on
        floating-point tensors, as torch (``requires_grad_`` does the same)."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if not isinstance(value, (bool, np.bool_)):
            raise RuntimeError(f"requires_grad must be a bool, got {type(value).__name__}")
        if self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables."
                               + ("" if value else " If you want to use a computed variable in a "
                                  "subgraph that doesn't require differentiation use "
                                  "var_no_grad = var.detach()."))
        if value and self._data.dtype.kind != "f":
            raise RuntimeError(f"only Tensors of floating point and complex dtype can require "
                               f"gradients, got {self.dtype}")
        self._requires_grad = bool(value)

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim=None):
        """The shape, or the length of dimension ``dim``."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[normalize_dim(dim, self.ndim, "size")]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    def nelement(self) -> int:
        return self._data.size

    def element_size(self) -> int:
        return self._data.itemsize

    def ndimension(self) -> int:
        """The number of dims (``dim()``'s legacy name)."""
        return self._data.ndim

    @property
    def itemsize(self) -> int:
        """Bytes per element (``element_size()``)."""
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes the elements take: numel · itemsize (of this view, not of its base)."""
        return self._data.nbytes

    def get_device(self) -> int:
        """The device index: −1, a CPU tensor's, as torch's."""
        return -1

    def data_ptr(self) -> int:
        """The address of the first element in memory (0 for a tensor with no elements)."""
        return self._data.__array_interface__["data"][0] if self._data.size else 0

    def share_memory_(self):
        """Move the data to shared memory (anonymous, handed on by file descriptor), so that
        other processes see and update the same numbers: processes forked afterwards inherit
        it, and ``chainrule.multiprocessing`` hands it to spawned ones without a copy (Hogwild
        training). A no-op if it is there already. Returns self. (A view gets its own shared
        copy: the tensors it viewed keep their memory.)"""
        if not self.is_shared():
            data = self._data
            shared = shared_array(new_shared_memory(data.nbytes), data.nbytes, data.dtype)
            shared = shared.reshape(data.shape)
            shared[...] = data
            self._data = shared
        return self

    def is_shared(self) -> bool:
        """Whether the data lies in shared memory (after :meth:`share_memory_`)."""
        return shared_root(self._data) is not None

    def storage_offset(self) -> int:
        """How many elements past the start of the memory it views the first element lies
        (0 for a tensor that owns its memory): ``x[1:]`` of a (3, 4) tensor starts at 4."""
        start = memory_root(self._data).__array_interface__["data"][0]
        return (self._data.__array_interface__["data"][0] - start) // self._data.itemsize

    def is_complex(self) -> bool:
        """False: chainrule has no complex dtypes."""
        return False

    @property
    def real(self):
        """The real part: a real tensor's is the tensor itself (as torch's)."""
        return self

    @property
    def dtype(self) -> _dtype.dtype:
        return from_numpy_dtype(self._data.dtype)

    @property
    def device(self) -> _device_type:
        """Always ``device(type='cpu')``: chainrule computes with NumPy on the CPU."""
        return CPU

    @property
    def layout(self):
        """Always ``chainrule.strided``: a dense array addressed by strides (no sparse tensors)."""
        return strided

    is_cuda = False   # torch's flags, for code that asks (a dense CPU tensor's values)
    is_cpu = True
    is_mps = is_xpu = is_xla = is_ipu = is_hpu = is_mtia = is_maia = is_vulkan = False
    is_meta = is_mkldnn = is_quantized = is_nested = is_sparse = is_sparse_csr = False

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def _version(self) -> int:
        return self._version_box[0]

    def is_inference(self) -> bool:
        """True for a tensor made inside ``chainrule.inference_mode()``."""
        return self._is_inference

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_contiguous(self, memory_format=_memory_format.contiguous_format) -> bool:
        """Whether the elements lie densely in ``memory_format``'s order: C order by default,
        (N, H, W, C) for ``chainrule.channels_last`` (dims of size 1 may have any stride)."""
        return _memory_format.is_laid_out(self._data, memory_format)

    # ------------------------------------------------------------------ conversion
    def numpy(self, *, force=False) -> np.ndarray:
        """The underlying NumPy array (shared memory, as in torch). A tensor that requires grad
        refuses while grad mode is on (torch's check), so ``no_grad`` code and a custom
        Function's forward may read it."""
        if self.requires_grad and STATE.grad_enabled and not force:
            raise RuntimeError("Can't call numpy() on a Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        if TRACE.recorder is not None:
            TRACE.recorder.python_value(self, "numpy()")
        return self._data

    def __array__(self, dtype=None, copy=None):
        """NumPy's array protocol: ``np.asarray(t)`` shares memory with ``t`` (as torch's);
        ``np.array(t)`` (``copy=True``) copies; ``copy=False`` with another ``dtype`` raises
        ValueError, as NumPy's protocol asks."""
        if dtype is None or np.dtype(dtype) == self._data.dtype:
            return self._data.copy() if copy else self._data
        if copy is False:
            raise ValueError(f"__array__: cannot convert a {self._data.dtype} Tensor to "
                             f"{np.dtype(dtype)} without a copy (copy=False)")
        return self._data.astype(dtype)

    # ------------------------------------------------------------------ DLPack
    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """Export the tensor's memory as a DLPack capsule (shared, no copy unless ``copy=True``),
        so ``torch.from_dlpack(t)`` and ``np.from_dlpack(t)`` see the same numbers. Delegates to
        the NumPy array. A tensor that requires grad is refused, as torch refuses it (BufferError:
        use ``t.detach()``)."""
        if self.requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        return self._data.__dlpack__(stream=stream, max_version=max_version, dl_device=dl_device,
                                     copy=copy)

    def __dlpack_device__(self):
        """``(1, 0)``: DLPack's CPU device (chainrule's tensors live in host memory)."""
        return self._data.__dlpack_device__()

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"item: a Tensor with {self._data.size} elements cannot be "
                               "converted to a Python scalar")
        if TRACE.recorder is not None:   # a value that Python code may branch on
            TRACE.recorder.python_value(self, "item()")
        return self._data.item()

    def tolist(self):
        if TRACE.recorder is not None:
            TRACE.recorder.python_value(self, "tolist()")
        return self._data.tolist()

    def __float__(self):
        self._one_element()
        return float(self.item())

    def __int__(self):
        self._one_element()
        return int(self.item())

    def _one_element(self):
        # int()/float() of a multi-element tensor: torch's ValueError (item() raises RuntimeError)
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")

    def __index__(self):
        if self._data.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._data.size} elements is "
                               "ambiguous; use .any() or .all()")
        if TRACE.recorder is not None:
            TRACE.recorder.python_value(self, "bool()")
        return bool(self._data.item())

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    __hash__ = object.__hash__  # == is elementwise, identity stays the hash (as in torch)


def index_value(t, op, what="argument"):
    """The Python int a one-element integer tensor stands for where torch takes an int (a
    size, a dim, an arange bound); TypeError for a float or multi-element tensor."""
    if t._data.dtype.kind not in "iu" or t._data.size != 1:
        raise TypeError(f"{op}: {what} must be an int, got a {t.dtype} tensor of shape "
                        f"{tuple(t._data.shape)}")
    return int(t._data.item())


def normalize_dim(dim, ndim, op):
    """Map a possibly negative dim into range(ndim); 0-d tensors accept dims -1 and 0."""
    n = max(ndim, 1)
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        if not isinstance(dim, TensorBase):
            raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
        dim = index_value(dim, op, "dim")   # a 0-d integer tensor, as torch: x.sum(tensor(0))
    if not -n <= dim < n:
        raise IndexError(f"{op}: dimension out of range (expected to be in range of [{-n}, "
                         f"{n - 1}], but got {dim})")
    return dim % n if ndim else 0


def parse_to_args(args, kwargs, op):
    """Sort the arguments of ``.to(...)`` (torch's three forms: ``to(dtype)``, ``to(device,
    dtype)``, ``to(other_tensor)``, each with optional ``non_blocking`` and ``copy``) into
    ``(dtype or None, copy)``; a device other than the CPU raises, naming ``op``."""
    kwargs = dict(kwargs)
    dev, dt = kwargs.pop("device", None), kwargs.pop("dtype", None)
    flags = [kwargs.pop("non_blocking", False), kwargs.pop("copy", False)]
    if kwargs:
        raise TypeError(f"{op}() got an unexpected keyword argument '{next(iter(kwargs))}'")
    positional_flags = []
    for a in args:
        if isinstance(a, bool):
            positional_flags.append(a)
        elif isinstance(a, TensorBase):
            dt = a.dtype if dt is None else dt
        elif is_device_like(a):
            dev = a
        elif isinstance(a, str):
            try:
                dt = _dtype.as_dtype(a)
            except TypeError:
                dev = a        # neither a dtype nor a device name: the device check says so
        else:
            dt = a
    if len(positional_flags) > 2:
        raise TypeError(f"{op}() received too many positional bool arguments "
                        f"(non_blocking, copy), got {len(positional_flags)}")
    flags[:len(positional_flags)] = positional_flags
    check_device(dev, op)
    return (None if dt is None else _dtype.as_dtype(dt)), bool(flags[1])
