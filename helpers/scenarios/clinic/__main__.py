"""``python -m helpers.scenarios.clinic [--write] [--answers]``: re-export the logs, rewrite notebook 06's answers."""

from helpers.scenarios.clinic.render import main

raise SystemExit(main())
