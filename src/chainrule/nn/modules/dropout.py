"""Dropout: zero activations at random while training (an ensemble of thinned networks)."""
from __future__ import annotations

from .. import functional as F
from .module import Module


class Dropout(Module):
    """Zero each element with probability p in training and scale the rest by 1/(1−p)
    (inverted dropout), so evaluation (``eval()``) is the identity."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """Zero whole channels (H×W maps) with probability p in training, scaling the rest by
    1/(1−p); the identity in eval. Shapes: (N, C, H, W) -> same; see ``F.dropout2d``."""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout1d(Dropout):
    """Zero whole channels (length-L rows) with probability p in training, scaling the rest
    by 1/(1−p). Shapes: (N, C, L) or (C, L) -> same; see ``F.dropout1d``."""

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout3d(Dropout):
    """Zero whole channels (D×H×W volumes) with probability p in training, scaling the rest by
    1/(1−p). Shapes: (N, C, D, H, W) or (C, D, H, W) -> same; see ``F.dropout3d``."""

    def forward(self, input):
        return F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(Dropout):
    """Dropout that keeps SELU's self-normalisation (mean 0, variance 1); see
    ``F.alpha_dropout``. Shapes: (*) -> same."""

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(Dropout):
    """:class:`AlphaDropout` on whole channels; see ``F.feature_alpha_dropout``."""

    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training)
