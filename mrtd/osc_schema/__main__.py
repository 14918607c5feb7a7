"""Print the OSC namespace as JSON: ``python -m mrtd.osc_schema``."""

import json

from mrtd.osc_schema import NAMESPACE

print(json.dumps(NAMESPACE.to_dict(), indent=1))
