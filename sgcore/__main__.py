"""``python -m sgcore <page> ...``: see :mod:`sgcore.cli`."""

import sys

from .cli import main

sys.exit(main())
