"""`python -m diffcourse_staff.grades`: see diffcourse_staff.grades.cli."""

import sys

from diffcourse_staff.grades.cli import main

sys.exit(main())
