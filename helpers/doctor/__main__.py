"""``python -m helpers.doctor LOG``: the same as ``gap-doctor LOG``."""

import sys

from helpers.doctor.cli import main

sys.exit(main())
