"""Blocks of free loopback ports: the bench's finder (``bench/ports.py``), one for both."""

from __future__ import annotations

from bench.ports import free_port_block

__all__ = ["free_port_block"]
