"""Helpers the tests share: free ports, a private jackd, liblo's OSC tools, an
in-process daemon and `mrtd serve` as a subprocess. Fixtures live in tests/conftest.py."""
