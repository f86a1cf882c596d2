"""CRC-32C (Castagnoli) for TFRecord framing: one record through the C library, many records
of one length at once through numpy tables.

Owns: the masking TFRecord applies to a CRC, the per-position lookup tables, and the batch CRC
of a group of equal-length records. Must not import textual, rich, or other tuiboard modules.

Why the batch form works: CRC-32C is affine over GF(2). For messages of one length L,
``crc(x) = crc(0^L) ^ XOR_k T[L][k][x_k]`` where ``T[L][k][b]`` is the contribution of byte value
``b`` at position ``k`` (a "slice-by-L" table set, 1 KiB per position). Against a reference row
``t`` of the same length, ``crc(x) = crc(t) ^ XOR_k T[L][k][x_k ^ t_k]``, and the positions where
every row equals ``t`` contribute nothing: scalar Events of one layout differ only in their
wall-time, step and value bytes, so a group costs one table lookup per *varying* byte per row.
"""

from __future__ import annotations

import google_crc32c
import numpy as np

MASK_DELTA = 0xA282EAD8
_POLY = 0x82F63B78  # CRC-32C, reflected


def _byte_table() -> np.ndarray:
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(_POLY), table >> 1).astype(np.uint32)
    return table


BYTE_TABLE: np.ndarray = _byte_table()
"""T0[b]: the CRC register update of one byte b with a zero register."""

_position_tables: dict[int, np.ndarray] = {}
_zero_crcs: dict[int, int] = {}


def crc32c(data: bytes | bytearray | memoryview) -> int:
    """Plain CRC-32C of ``data`` (hardware-accelerated C call)."""
    return int(google_crc32c.value(data if isinstance(data, bytes) else bytes(data)))


def mask(crc: int) -> int:
    """TFRecord's masked CRC."""
    crc &= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + MASK_DELTA) & 0xFFFFFFFF


def unmask(masked: int) -> int:
    rot = (masked - MASK_DELTA) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


def masked_crc32c(data: bytes | bytearray | memoryview) -> int:
    return mask(crc32c(data))


def mask_array(crcs: np.ndarray) -> np.ndarray:
    """``mask`` over a uint32 array (numpy wraps the addition modulo 2**32)."""
    c = crcs.astype(np.uint32, copy=False)
    return ((c >> np.uint32(15)) | (c << np.uint32(17))) + np.uint32(MASK_DELTA)


def position_tables(length: int) -> np.ndarray:
    """``(length, 256)`` uint32: row k is the linear contribution of a byte at position k of a
    ``length``-byte message. Cached per length (1 KiB per position)."""
    tables = _position_tables.get(length)
    if tables is None:
        tables = np.empty((length, 256), dtype=np.uint32)
        row = BYTE_TABLE.copy()
        for k in range(length - 1, -1, -1):
            tables[k] = row
            # feeding one zero byte after it moves the contribution one position further left
            row = (row >> np.uint32(8)) ^ BYTE_TABLE[row & np.uint32(0xFF)]
        if len(_position_tables) > 512:
            _position_tables.clear()
        _position_tables[length] = tables
    return tables


def zero_crc(length: int) -> int:
    """CRC-32C of ``length`` zero bytes: the affine constant of messages of that length."""
    value = _zero_crcs.get(length)
    if value is None:
        value = crc32c(bytes(length))
        _zero_crcs[length] = value
    return value


def crc32c_rows(rows: np.ndarray) -> np.ndarray:
    """CRC-32C of every row of a ``(n, L)`` uint8 matrix, as uint32 (dense: every column)."""
    n, length = rows.shape
    acc = np.full(n, zero_crc(length), dtype=np.uint32)
    if length == 0 or n == 0:
        return acc
    tables = position_tables(length)
    for k in range(length):
        acc ^= tables[k][rows[:, k]]
    return acc


def crc32c_rows_sparse(
    columns: list[tuple[int, np.ndarray]], length: int, reference_crc: int, n: int
) -> np.ndarray:
    """CRC-32C of ``n`` rows of one length that differ from a reference row only in the given
    byte positions. ``columns`` holds ``(position, row_byte XOR reference_byte)`` uint8 arrays;
    ``reference_crc`` is the plain CRC of the reference row."""
    acc = np.full(n, reference_crc, dtype=np.uint32)
    if not columns:
        return acc
    tables = position_tables(length)
    for position, diff in columns:
        acc ^= tables[position][diff]
    return acc
