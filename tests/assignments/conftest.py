"""tests/assignments on sys.path: the tests import notebook_harness and the variant catalogs."""

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
