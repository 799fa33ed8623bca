import sys

from tools.diff.cli import main

sys.exit(main())
