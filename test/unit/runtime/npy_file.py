"""The .npy files ncl-run writes (format 1.0, little-endian, C order), read
with the standard library: the tests that only compare values need no NumPy
(check_output.py, gpu_examples.py, which also runs on a GPU machine from the
bundle of bench/gpu/make_bundle.py).
"""
import ast
import struct

# The element types ncl-run writes, as struct codes.
_CODES = {"<f8": "d", "<f4": "f", "<i8": "q", "<i4": "i", "<i2": "h"}


def read_npy(path):
    """(dtype, shape, data bytes) of an .npy file."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:6] != b"\x93NUMPY":
        raise ValueError("%s: not an .npy file" % path)
    length = struct.unpack("<H", raw[8:10])[0]
    header = ast.literal_eval(raw[10:10 + length].decode("latin1"))
    if header.get("fortran_order"):
        raise ValueError("%s: Fortran order" % path)
    return header["descr"], tuple(header["shape"]), raw[10 + length:]


def load(path):
    """(dtype, shape, values as a flat list of Python numbers)."""
    descr, shape, data = read_npy(path)
    code = _CODES[descr]
    return descr, shape, [v for (v,) in struct.iter_unpack("<" + code, data)]
