"""``python -m sgcore <page> ...``: see :mod:`sgcore.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
