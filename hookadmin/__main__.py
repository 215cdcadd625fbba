"""``python -m hookadmin``."""

import sys

try:
    from hookadmin.cli import main

    status = main()
except KeyboardInterrupt:  # Ctrl+C before the command's own handling is in place
    status = 130
sys.exit(status)
