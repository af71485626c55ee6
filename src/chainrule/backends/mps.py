"""``torch.backends.mps``: Apple's GPU backend is not there (chainrule computes on the CPU)."""


def is_available() -> bool:
    """False: chainrule computes on the CPU with NumPy."""
    return False


def is_built() -> bool:
    """False: no MPS support is built in."""
    return False
