"""Grade a whole class outside Gradescope: one fresh container (or sandbox) per submission.

`python -m diffcourse_staff.grading_batch grade ...` (wrapped by `make grade-all`) reads a
Gradescope export or a folder of submissions, grades each with the isolated
grading runner of the autograder zip in its own container, and writes
per-submission results, scores.csv and a report. `image` builds the container
image (`make grading-image`); `k8s` writes the Kubernetes Indexed Job that runs
the same grading on a cluster.
"""
