"""``torch.backends.cuda``'s switches, for scripts that set them (nanoGPT sets
``torch.backends.cuda.matmul.allow_tf32``): chainrule has no CUDA, so ``is_built()`` is False
and the switches are plain settings with no effect, holding torch's defaults. The attention
switches (``enable_flash_sdp`` …) are kept as ``torch.backends.cuda`` keeps them and read back
by ``*_sdp_enabled()``; chainrule's ``scaled_dot_product_attention`` has one kernel, the
formula, whatever they say."""
import contextlib


def is_built() -> bool:
    """False: no CUDA support is built in."""
    return False


class _MatmulSettings:
    """``torch.backends.cuda.matmul``: the precision switches of cuBLAS products (no effect)."""

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True
        self.allow_fp16_accumulation = False

    def __repr__(self):
        return (f"cuBLAS settings (no effect in chainrule): allow_tf32={self.allow_tf32}, "
                f"allow_fp16_reduced_precision_reduction="
                f"{self.allow_fp16_reduced_precision_reduction}, "
                f"allow_bf16_reduced_precision_reduction="
                f"{self.allow_bf16_reduced_precision_reduction}")


matmul = _MatmulSettings()

_SDP = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def flash_sdp_enabled() -> bool:
    """Whether the flash-attention kernel may be picked (a setting only: see the module)."""
    return _SDP["flash"]


def mem_efficient_sdp_enabled() -> bool:
    """Whether the memory-efficient attention kernel may be picked (a setting only)."""
    return _SDP["mem_efficient"]


def math_sdp_enabled() -> bool:
    """Whether the formula's attention may be picked (a setting only)."""
    return _SDP["math"]


def cudnn_sdp_enabled() -> bool:
    """Whether cuDNN's attention kernel may be picked (a setting only)."""
    return _SDP["cudnn"]


def enable_flash_sdp(enabled: bool):
    """Set ``flash_sdp_enabled()``."""
    _SDP["flash"] = bool(enabled)


def enable_mem_efficient_sdp(enabled: bool):
    """Set ``mem_efficient_sdp_enabled()``."""
    _SDP["mem_efficient"] = bool(enabled)


def enable_math_sdp(enabled: bool):
    """Set ``math_sdp_enabled()``."""
    _SDP["math"] = bool(enabled)


def enable_cudnn_sdp(enabled: bool):
    """Set ``cudnn_sdp_enabled()``."""
    _SDP["cudnn"] = bool(enabled)


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True,
               enable_cudnn=True):
    """The older form of ``chainrule.nn.attention.sdpa_kernel``: set the four switches for
    the block and put them back after it."""
    saved = dict(_SDP)
    _SDP.update(flash=bool(enable_flash), math=bool(enable_math),
                mem_efficient=bool(enable_mem_efficient), cudnn=bool(enable_cudnn))
    try:
        yield
    finally:
        _SDP.update(saved)
