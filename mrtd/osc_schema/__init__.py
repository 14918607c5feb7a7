"""The one machine-readable description of mrtd's OSC namespace (``/mrtd/...``)."""
