"""Tests of the benchmark harness (bench/) and of streaming in constant memory."""
