"""``python -m hookadmin``."""

import sys

from hookadmin.cli import main

sys.exit(main())
