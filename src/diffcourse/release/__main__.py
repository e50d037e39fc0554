"""`python -m diffcourse.release ...` (see diffcourse.release.cli)."""

from diffcourse.release.cli import main

if __name__ == "__main__":
    main()
