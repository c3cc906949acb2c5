"""``python -m sgexplorer``: the same as the ``sgexplorer`` command."""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
