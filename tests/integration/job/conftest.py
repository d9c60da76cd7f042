"""Makes the example derived job in tests/support importable (pytest runs in importlib mode)."""

import sys
from pathlib import Path

_SUPPORT = str(Path(__file__).resolve().parents[2] / "support")
if _SUPPORT not in sys.path:
    sys.path.insert(0, _SUPPORT)
