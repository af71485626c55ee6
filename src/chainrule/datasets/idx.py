"""The IDX format of MNIST: a big-endian header (magic = 0x00 0x00 dtype ndim), the size of
each dimension as a 4-byte integer, then the data. Files may be gzip-compressed."""
from __future__ import annotations

import gzip

import numpy as np

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path, expected_ndim=None) -> np.ndarray:
    """Read an IDX file (raw or .gz) into a NumPy array, checking the header and the length."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise ValueError(f"read_idx: {path}: cannot read ({e}); the file is corrupt or truncated") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES:
        raise ValueError(f"read_idx: {path}: bad magic number {data[:4].hex() if data else 'empty'}; "
                         "not an IDX file")
    ndim = data[3]
    if expected_ndim is not None and ndim != expected_ndim:
        magic = int.from_bytes(data[:4], "big")
        raise ValueError(f"read_idx: {path}: magic number {magic} means a {ndim}-d array, expected "
                         f"{expected_ndim}-d ({2049 if expected_ndim == 1 else 2051})")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"read_idx: {path}: truncated header")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_DTYPES[data[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(f"read_idx: {path}: header says shape {shape} ({expected} bytes of data) "
                         f"but the file holds {len(data) - header}; it is truncated or corrupt")
    return np.frombuffer(data, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))
