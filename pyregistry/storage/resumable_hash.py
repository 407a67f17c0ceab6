"""Running hashes whose state can be saved and taken up again, in distribution's format.

An upload session's running hash lives in the process that received its chunks. A chunk
that lands on another worker or instance (or comes after a restart) used to leave the
commit to read the whole upload again. distribution saves its hash's state beside the
data after each chunk, as Go's ``encoding.BinaryMarshaler`` writes a sha256 or sha512
state; we read and write the same bytes (:mod:`hash_states` says where and when).

hashlib cannot export a state, so the running hash is OpenSSL's low-level SHA-256/512,
the code hashlib itself runs, reached through ctypes (which lets the GIL go for every
update, as hashlib does for large ones): its context is a plain struct whose fields are
the state. Where no libcrypto with those functions can be loaded, :func:`new_running_hash`
gives hashlib's hashes and no state is ever saved or read: a commit then re-reads, as
before.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import hashlib
import struct
from typing import Any, Protocol


class RunningHash(Protocol):
    """What an upload's running hash offers (hashlib's hashes have it all)."""

    @property
    def name(self) -> str: ...

    def update(self, data: bytes, /) -> None: ...

    def hexdigest(self) -> str: ...


class _Sha256Context(ctypes.Structure):
    """OpenSSL's ``SHA256_CTX``: the chaining words, the bit count in two halves, the
    pending block's bytes (in stream order), how many of them are pending."""

    _fields_ = [
        ("h", ctypes.c_uint32 * 8),
        ("low", ctypes.c_uint32),
        ("high", ctypes.c_uint32),
        ("block", ctypes.c_uint8 * 64),
        ("pending", ctypes.c_uint32),
        ("md_len", ctypes.c_uint32),
    ]


class _Sha512Context(ctypes.Structure):
    """OpenSSL's ``SHA512_CTX``, laid out as ``SHA256_CTX`` with 64-bit words."""

    _fields_ = [
        ("h", ctypes.c_uint64 * 8),
        ("low", ctypes.c_uint64),
        ("high", ctypes.c_uint64),
        ("block", ctypes.c_uint8 * 128),
        ("pending", ctypes.c_uint32),
        ("md_len", ctypes.c_uint32),
    ]


class _Algorithm:
    """One algorithm's OpenSSL functions and Go's state format for it."""

    def __init__(
        self, lib: ctypes.CDLL, name: str, context: type[ctypes.Structure], word: int
    ) -> None:
        self.name = name
        self.context = context
        prefix = name.upper()
        pointer = ctypes.POINTER(context)
        self.init = _function(lib, f"{prefix}_Init", [pointer])
        self.update = _function(
            lib, f"{prefix}_Update", [pointer, ctypes.c_char_p, ctypes.c_size_t]
        )
        self.final = _function(lib, f"{prefix}_Final", [ctypes.c_char_p, pointer])
        #: Bytes per chaining word (and per half of the bit count).
        self.word = word
        self.word_format = ">8I" if word == 4 else ">8Q"
        self.block_size = 16 * word
        self.digest_size = 8 * word
        self.block_offset: int = context.block.offset
        #: Go's identifier of the state (``crypto/sha256``'s and ``crypto/sha512``'s).
        self.magic = b"sha\x03" if word == 4 else b"sha\x07"
        self.state_size = len(self.magic) + 8 * word + self.block_size + 8


def _function(lib: ctypes.CDLL, name: str, argtypes: list[Any]) -> Any:
    function = getattr(lib, name)
    function.argtypes = argtypes
    function.restype = ctypes.c_int
    return function


def _libcrypto() -> str | None:
    """The libcrypto hashlib itself runs (read off the process's mappings: exact, and no
    ``ldconfig`` run), else the system's."""
    try:
        import _hashlib  # noqa: F401 - maps hashlib's libcrypto into the process

        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                path = line.rstrip("\n").split(" ")[-1]
                if "/libcrypto" in path:
                    return path
    except (ImportError, OSError):
        pass  # a Python without OpenSSL's hashlib, or not Linux
    return ctypes.util.find_library("crypto")


@functools.cache
def _algorithms() -> dict[str, _Algorithm]:
    """The algorithms libcrypto offers here (none when it cannot be loaded)."""
    found = _libcrypto()
    if found is None:
        return {}
    try:
        lib = ctypes.CDLL(found)
        algorithms = {
            name: _Algorithm(lib, name, context, word)
            for name, context, word in (
                ("sha256", _Sha256Context, 4),
                ("sha512", _Sha512Context, 8),
            )
        }
    except (OSError, AttributeError):
        return {}
    for algorithm in algorithms.values():  # a library that hashes wrongly is not used
        probe = ResumableHash(algorithm)
        probe.update(b"abc")
        if probe.hexdigest() != hashlib.new(algorithm.name, b"abc").hexdigest():
            return {}
    return algorithms


class ResumableHash:
    """A running hash whose :meth:`state` can be saved and :func:`restore` d elsewhere."""

    def __init__(self, algorithm: _Algorithm, context: ctypes.Structure | None = None) -> None:
        self._algorithm = algorithm
        if context is None:
            context = algorithm.context()
            algorithm.init(ctypes.byref(context))
        self._context = context

    @property
    def name(self) -> str:
        return self._algorithm.name

    def update(self, data: bytes, /) -> None:
        if type(data) is not bytes:
            data = bytes(data)
        self._algorithm.update(ctypes.byref(self._context), data, len(data))

    def hexdigest(self) -> str:
        """The digest of what was fed so far (the hash can still be fed more)."""
        algorithm = self._algorithm
        context = type(self._context).from_buffer_copy(self._context)
        out = ctypes.create_string_buffer(algorithm.digest_size)
        algorithm.final(out, ctypes.byref(context))
        return out.raw.hex()

    def state(self) -> bytes:
        """The state as Go's ``MarshalBinary`` writes it: identifier, chaining words
        (big-endian), the pending block padded with zeros, the byte count."""
        algorithm = self._algorithm
        context: Any = self._context
        bits = (context.high << (8 * algorithm.word)) | context.low
        block = bytes(context.block)[: context.pending].ljust(algorithm.block_size, b"\0")
        words = struct.pack(algorithm.word_format, *context.h)
        return algorithm.magic + words + block + struct.pack(">Q", bits >> 3)


def new_running_hash(algorithm: str) -> RunningHash:
    """A running hash of ``algorithm``: resumable where libcrypto allows, else hashlib's."""
    resumable = _algorithms().get(algorithm)
    return ResumableHash(resumable) if resumable is not None else hashlib.new(algorithm)


def restore(algorithm: str, state: bytes) -> ResumableHash | None:
    """The hash whose :meth:`ResumableHash.state` (or Go's) is ``state``; None when it is
    not one of ``algorithm`` or resumable hashes are not available here."""
    found = _algorithms().get(algorithm)
    if found is None or len(state) != found.state_size or not state.startswith(found.magic):
        return None
    words_end = len(found.magic) + 8 * found.word
    size = fed(state)
    pending = size % found.block_size
    context: Any = found.context()
    context.h[:] = struct.unpack(found.word_format, state[len(found.magic) : words_end])
    bits = size << 3
    context.low = bits & ((1 << (8 * found.word)) - 1)
    context.high = bits >> (8 * found.word)
    block = state[words_end : words_end + pending]
    ctypes.memmove(ctypes.addressof(context) + found.block_offset, block, pending)
    context.pending = pending
    context.md_len = found.digest_size
    return ResumableHash(found, context)


def fed(state: bytes) -> int:
    """How many bytes the hash of ``state`` had seen (its last eight bytes)."""
    return int(struct.unpack(">Q", state[-8:])[0])
