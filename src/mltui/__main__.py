"""`python -m mltui`: the same as the `mltui` command."""

import sys

from .cli import main

sys.exit(main())
