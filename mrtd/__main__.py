"""``python -m mrtd`` is the same as the ``mrtd`` console script."""

from mrtd.cli import main

raise SystemExit(main())
