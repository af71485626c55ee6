"""``torch.backends.cudnn``'s switches, for scripts that set them: chainrule has no cuDNN (it
computes on the CPU), so they are plain attributes with no effect; ``is_available()`` is False.
Determinism is :func:`chainrule.use_deterministic_algorithms`."""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: chainrule computes on the CPU with NumPy."""
    return False


def version():
    """None: no cuDNN."""
    return None
