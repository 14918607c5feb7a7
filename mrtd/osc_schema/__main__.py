"""``python -m mrtd.osc_schema`` prints the namespace as JSON, for tools in any language.
(The Markdown reference and the controller files are made by ``mrtd.devtools``.)"""

from __future__ import annotations

import json
import sys

from mrtd.osc_schema import NAMESPACE


def main() -> int:
    print(json.dumps(NAMESPACE.to_dict(), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
