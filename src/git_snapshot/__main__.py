"""``python -m git_snapshot``: the command line."""

from __future__ import annotations

import sys

from git_snapshot.hookmain import main  # the executable's: Ctrl-C while cli loads is one line

sys.exit(main())
