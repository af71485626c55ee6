"""torch's module path for the instance norms (``torch.nn.modules.instancenorm``); they are
defined in :mod:`.normalization`."""
from .normalization import (InstanceNorm1d, InstanceNorm2d, InstanceNorm3d,  # noqa: F401
                            LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d,
                            _InstanceNorm)
