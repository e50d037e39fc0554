"""diffcourse_staff: the course staff's tooling, never shipped to students.

`course` reads the course file; `release` builds and proves the release (student
and autograder zips, the library wheel); `site` feeds the MkDocs site;
`grading_batch` grades a whole export in the grading container; `grades`
computes final grades; `projects` runs the mini project. The diffusion library
students receive is the separate package `diffcourse`.
"""
