"""Keep glibc's allocator from handing a push's buffers back to the kernel after each use.

A blob push passes every byte through short-lived buffers of 64 KiB to a few MiB (the
pieces a request body arrives in, the batches hashed on a thread). glibc serves the
larger ones with a fresh ``mmap`` (its threshold moves with what was freed last) and
returns the top of the heap to the kernel whenever 128 KiB lie free there, so the same
memory is unmapped and faulted in again, page by page, all through the push: 40,000 to
180,000 page faults per GiB, a third of a big push's CPU (system time) on a virtual
machine, where a fault costs several microseconds. A fixed ``mmap`` threshold of 4 MiB
and a trim threshold of 8 MiB let the heap keep what the next request will reuse; the
price is at most that much idle memory per process. The threshold sits above the 1 MiB
(plus object header) pieces a blob GET reads: at exactly 1 MiB every piece of a pull was
a fresh ``mmap``, which doubled a pull's CPU.

``serve`` applies it in the supervisor and in every worker. Elsewhere (musl, macOS) it
does nothing, and it leaves alone a process whose environment already tunes malloc.
"""

from __future__ import annotations

import ctypes
import os
import sys

#: mallopt's parameter numbers (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 4 * 1024 * 1024
TRIM_THRESHOLD = 8 * 1024 * 1024
#: Environment variables through which an operator tunes glibc malloc directly.
_OPERATOR_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")


def operator_tuned(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Whether the environment already sets glibc's malloc thresholds."""
    if "glibc.malloc." in environ.get("GLIBC_TUNABLES", ""):
        return True
    return any(name in environ for name in _OPERATOR_SETTINGS)


def tune_allocator() -> bool:
    """Set the thresholds above with ``mallopt``; whether they were set."""
    if not sys.platform.startswith("linux") or operator_tuned():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # glibc returns 1 on success; musl's stub returns 0 and changes nothing.
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
