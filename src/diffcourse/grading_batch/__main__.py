import sys

from diffcourse.grading_batch.cli import main

sys.exit(main())
