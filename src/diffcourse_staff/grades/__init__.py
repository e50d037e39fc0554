"""Final grades from Gradescope's exports, by the rules of the course file.

Staff run `make grades` (`python -m diffcourse_staff.grades`); the steps, in order:

1. `inputs`: read the input folder (git-ignored `grades/` by default): Gradescope's
   per-assignment "Download Grades" CSVs and/or the course gradebook export, the GPU
   grading container's scores.csv files, the roster, the participation CSV and the
   private extensions file. Bad input stops with the file, row and column.
2. `engine`: per student and assignment part, lateness (the "Lateness (H:M:S)" column
   less any extension and the grace period, rounded up to whole late units); free late
   units placed where they raise the final grade most (`allocation`, exact); penalties
   and the hard limit; then drops within each component; then the weighted (or points)
   aggregation and the letter or band.
3. `reports`: final_grades.csv, the registrar upload, one report per student with the
   arithmetic, and the staff summary (distribution PNG, per-assignment statistics,
   students near a cutoff).

`ics` makes the course calendar for the site from the same course file.
"""
