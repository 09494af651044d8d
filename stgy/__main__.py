"""`python -m stgy` is the `stgy` command."""

import sys

from stgy.cli import main

sys.exit(main())
