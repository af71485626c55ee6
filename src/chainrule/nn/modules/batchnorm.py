"""torch's module path for the batch norms (``torch.nn.modules.batchnorm``), which scripts
import ``_BatchNorm`` from to find them (``isinstance(m, _BatchNorm)``); they are defined in
:mod:`.normalization`."""
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, _BatchNorm  # noqa: F401
from .normalization import (LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d,  # noqa: F401
                            _LazyNormBase)
from .sync_batchnorm import SyncBatchNorm  # noqa: F401
