"""``python -m tqspatial``: the command line (see :mod:`tqspatial.cli`)."""

from __future__ import annotations

import sys

from tqspatial.cli import main

if __name__ == "__main__":
    sys.exit(main())
