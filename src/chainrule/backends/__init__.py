"""What chainrule computes with, the bottom layer of the library.

``backends.namespace``: the two namespaces a derivative rule is written against (NumPy arrays
for a plain backward, recorded Tensors for higher derivatives and forward mode);
``backends.cpu``: the scoped CPU settings (``with chainrule.backends.cpu.tuned(): ...``) and the
thread policy the dense and convolution kernels ask; ``backends.blas``: NumPy's BLAS and its
thread count (``chainrule.get_num_threads``/``set_num_threads``); ``backends.malloc``: glibc's
malloc told to keep freed memory, and put back; ``backends.onednn``: convolutions through
oneDNN (the ``onednn`` extra) at the array level, with the NumPy kernels as the fallback
(``torch.backends.mkldnn``'s ``is_available``/``enabled``/``flags``, and importable under that
name); ``cuda``, ``cudnn`` and ``mps``: torch's switches for GPU backends chainrule does not
have (no effect). Nothing here changes a
process-wide setting or loads a library at import.
"""
import sys

# (each reachable as chainrule.backends.<name> after `import chainrule`)
from . import blas, cpu, cuda, cudnn, malloc, mps, namespace, onednn  # noqa: F401

# torch's name for oneDNN, so ``import torch.backends.mkldnn`` finds the same module
mkldnn = onednn
sys.modules[__name__ + ".mkldnn"] = onednn
