import sys

from diffcourse_staff.grading_batch.cli import main

sys.exit(main())
