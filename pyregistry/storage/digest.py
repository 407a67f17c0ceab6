"""Content digests (``algorithm:hex``), parsed and checked before they reach a path."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from pyregistry.storage.errors import DigestInvalid, UnsupportedDigestAlgorithm

#: Algorithms we can verify, with the hex length each produces.
ALGORITHMS: dict[str, int] = {"sha256": 64, "sha512": 128}

_DIGEST = re.compile(r"([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)")
_LOWER_HEX = re.compile(r"[a-f0-9]+")
#: Strings already parsed (every request parses one or two, mostly the same ones); a
#: Digest is immutable, so handing out the same one again is safe. Dropped when full.
_PARSED: dict[str, Digest] = {}
_PARSED_MAX = 4096


@dataclass(frozen=True, slots=True, order=True)
class Digest:
    """``algorithm:hex``; build it with ``parse`` so only verifiable digests ever exist."""

    algorithm: str
    hex: str

    @classmethod
    def parse(cls, value: str) -> Digest:
        """Parse ``alg:hex``; raise DigestInvalid for bad grammar or an unknown algorithm."""
        known = _PARSED.get(value)
        if known is not None and cls is Digest:
            return known
        m = _DIGEST.fullmatch(value or "")
        if not m:
            raise DigestInvalid(f"invalid digest: {value!r}", detail={"digest": value})
        alg, hexpart = m.group(1), m.group(2)
        if alg not in ALGORITHMS:
            raise UnsupportedDigestAlgorithm(
                f"unsupported digest algorithm: {alg}", detail={"digest": value}
            )
        if len(hexpart) != ALGORITHMS[alg] or not _LOWER_HEX.fullmatch(hexpart):
            raise DigestInvalid(f"invalid digest: {value!r}", detail={"digest": value})
        digest = cls(alg, hexpart)
        if cls is Digest:
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            _PARSED[value] = digest
        return digest

    @classmethod
    def from_bytes(cls, data: bytes, algorithm: str = "sha256") -> Digest:
        return cls(algorithm, hashlib.new(algorithm, data).hexdigest())

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"
