"""``python -m crmkit``: the same as the ``crmkit`` command."""

import sys

from crmkit.cli import main

if __name__ == "__main__":
    sys.exit(main())
