"""Entry point: `python -m tools.report --help`."""

import sys

from tools.report.cli import main

if __name__ == "__main__":
    sys.exit(main())
