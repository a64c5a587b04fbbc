"""`python -m mltui.cli`: the same as the `mltui` command."""

import sys

from . import main

sys.exit(main())
