"""The chi-squared distribution χ²(df) = Gamma(df/2, 1/2)."""
from __future__ import annotations

from . import constraints
from .gamma import Gamma

__all__ = ["Chi2"]


class Chi2(Gamma):
    """Chi-squared distribution with ``df`` degrees of freedom (the law of a sum of df squared
    standard normals), Gamma(α = df/2, β = ½): mean df, var 2·df.

    Args:
        df (float or Tensor): degrees of freedom > 0.
        validate_args (bool, optional): check the arguments.
    """
    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Chi2, _instance)
        return super().expand(batch_shape, new)

    @property
    def df(self):
        """The degrees of freedom, 2α."""
        return self.concentration * 2
