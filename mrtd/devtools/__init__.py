"""Tools for developers, never imported by the daemon: the benchmark, parity checks
against the official references, and the generators of docs/osc.md and the Max and
TouchOSC clients."""
