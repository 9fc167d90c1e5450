"""`python -m programme`: the operator's command line."""

import sys

from programme import main

sys.exit(main())
