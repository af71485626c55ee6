"""The IDX format of MNIST: a big-endian header — magic number = 0x00 0x00, a type code, the
number of dimensions d — then d sizes as 4-byte big-endian integers, then the data in C order.
Files may be gzip-compressed (``.gz``)."""
from __future__ import annotations

import gzip
import zlib

import numpy as np

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path, expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (raw, or gzip when the name ends in .gz) into a NumPy array.

    The magic number is checked (against ``expected_magic`` when given: 2051 = unsigned bytes in
    3 dimensions, MNIST's images; 2049 = unsigned bytes in 1 dimension, its labels), and the
    data length against the sizes in the header. Corrupt or truncated files raise ValueError
    naming the file and what is wrong.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(f"read_idx: {path}: cannot be read ({e}); the file is corrupt or "
                         "truncated") from None
    if len(data) < 4:
        raise ValueError(f"read_idx: {path}: {len(data)} bytes, too short for an IDX header; the "
                         "file is truncated")
    magic = int.from_bytes(data[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        raise ValueError(f"read_idx: {path}: wrong magic number {magic} (0x{magic:08x}), expected "
                         f"{expected_magic} ({_describe(expected_magic)})")
    if data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES:
        raise ValueError(f"read_idx: {path}: bad magic number 0x{magic:08x}; not an IDX file")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"read_idx: {path}: truncated header ({len(data)} bytes, the {ndim} "
                         f"dimension sizes need {header})")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_DTYPES[data[2]])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        state = "truncated" if len(data) - header < expected else "longer than its header says"
        raise ValueError(f"read_idx: {path}: the header says shape {shape} ({expected} bytes of "
                         f"data) but the file holds {len(data) - header}; it is {state} or corrupt")
    return np.frombuffer(data, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _describe(magic: int) -> str:
    code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    name = {0x08: "unsigned bytes", 0x09: "signed bytes", 0x0B: "int16", 0x0C: "int32",
            0x0D: "float32", 0x0E: "float64"}.get(code, f"type 0x{code:02x}")
    return f"{name} in {ndim} dimension{'s' if ndim != 1 else ''}"
