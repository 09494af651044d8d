"""`python -m stgy` is the `stgy` command."""

import sys

from stgy.entry import main

sys.exit(main())
