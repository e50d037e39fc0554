"""`python -m diffcourse_staff.release ...` (see diffcourse_staff.release.cli)."""

from diffcourse_staff.release.cli import main

if __name__ == "__main__":
    main()
