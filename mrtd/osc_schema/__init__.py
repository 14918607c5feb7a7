"""The one machine-readable description of mrtd's OSC namespace (``/mrtd/...``).

``python -m mrtd.osc_schema`` prints it as JSON.
"""

from mrtd.osc_schema.namespace import NAMESPACE
from mrtd.osc_schema.schema import Arg, Namespace, Param, SchemaError, is_pattern

__all__ = ["NAMESPACE", "Arg", "Namespace", "Param", "SchemaError", "is_pattern"]
