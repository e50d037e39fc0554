"""`python -m diffcourse.grades`: see diffcourse.grades.cli."""

import sys

from diffcourse.grades.cli import main

sys.exit(main())
