"""``python -m git_snapshot``: the command line."""

from __future__ import annotations

import sys

from git_snapshot.cli import main

sys.exit(main())
