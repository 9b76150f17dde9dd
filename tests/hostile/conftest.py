"""The hostile suite drives the commands as the e2e suite does (its helpers are shared)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "e2e"))
