"""``chainrule.nn``: modules, parameters, initialisation and the functional API."""
from . import functional, init
from .modules import *  # noqa: F401,F403
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter
from . import utils  # noqa: E402
from . import parallel  # noqa: E402
from .parallel import DataParallel  # noqa: E402,F401  (torch.nn.DataParallel)
