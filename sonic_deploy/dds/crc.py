"""Unitree CRC32 over the C-struct image of a message, table-driven in numpy.

The algorithm (Unitree SDK ``crc32_core``): polynomial 0x04C11DB7, initial value 0xFFFFFFFF, MSB-first,
no reflection, no final XOR, fed 32-bit words, each word from bit 31 down to bit 0. That equals
CRC-32/MPEG-2 over the bytes of each word written big-endian. The words are the message laid out as
the plain C struct (natural alignment, little-endian, zero padding) read as little-endian uint32,
every word except the trailing ``crc`` word (``sizeof / 4 - 1`` words).

The CRC is affine over GF(2) in the input bits, so for a fixed message length it is
``crc(0...0) XOR (XOR over bytes of T[position, value])``: one gather and one XOR reduction. The
per-position tables (256 uint32 per byte) are built once per length (about 1 MB for LowCmd_).
"""

from __future__ import annotations

import functools

import numpy as np

POLY = 0x04C11DB7
INIT = 0xFFFFFFFF


def crc32_words_reference(words) -> int:
    """Bit-by-bit reference implementation (slow; for tests)."""
    crc = INIT
    for word in words:
        word = int(word) & 0xFFFFFFFF
        for bit in range(31, -1, -1):
            top = crc & 0x80000000
            crc = (crc << 1) & 0xFFFFFFFF
            if top:
                crc ^= POLY
            if (word >> bit) & 1:
                crc ^= POLY
    return crc


def _step(crc: int) -> int:
    return ((crc << 1) ^ POLY) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF


@functools.lru_cache(maxsize=8)
def _tables(nbytes: int) -> tuple[int, np.ndarray]:
    """(CRC of nbytes zero bytes, table [nbytes, 256] of each byte value's contribution), image byte order."""
    nbits = 8 * nbytes
    # g[k] = contribution of a 1 injected at the register's top bit followed by k shift steps (k >= 1).
    g = np.zeros(nbits + 1, dtype=np.uint32)
    c = 0x80000000
    for k in range(1, nbits + 1):
        c = _step(c)
        g[k] = c
    zero = INIT
    for _ in range(nbits):
        zero = _step(zero)
    # Stream (big-endian-per-word) byte s, bit b (7 = MSB) is injected before step 8 s + (7 - b).
    stream_pos = np.arange(nbytes)
    image_pos = (stream_pos // 4) * 4 + (3 - stream_pos % 4)  # image byte feeding stream byte s
    contrib = np.zeros((nbytes, 8), dtype=np.uint32)  # [image byte, bit]
    for b in range(8):
        contrib[image_pos, b] = g[nbits - (8 * stream_pos + (7 - b))]
    table = np.zeros((nbytes, 256), dtype=np.uint32)
    for b in range(8):
        lo = 1 << b
        table[:, lo:2 * lo] = table[:, :lo] ^ contrib[:, b:b + 1]
    return zero, table


def crc32_image(image: np.ndarray | bytes) -> int:
    """CRC of a C-struct image (uint8, length a multiple of 4); the final word (the crc field) is skipped."""
    data = np.frombuffer(image, dtype=np.uint8) if isinstance(image, (bytes, bytearray, memoryview)) else image
    n = data.shape[0] - 4
    zero, table = _tables(n)
    return int(zero ^ np.bitwise_xor.reduce(table[_arange(n), data[:n]]))


@functools.lru_cache(maxsize=8)
def _arange(n: int) -> np.ndarray:
    return np.arange(n)


def crc32_words(words: np.ndarray) -> int:
    """CRC of a sequence of uint32 words (all of them)."""
    words = np.ascontiguousarray(words, dtype="<u4")
    image = np.concatenate([words.view(np.uint8), np.zeros(4, np.uint8)])
    return crc32_image(image)
