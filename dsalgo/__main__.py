"""``python -m dsalgo``: the command line (see :mod:`dsalgo.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
