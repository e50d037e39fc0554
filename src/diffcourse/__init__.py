"""diffcourse: the course's diffusion library, the package students receive.

Schedules, forward process, samplers, scores, control, models, data, training,
metrics and animations. It imports nothing from the staff tooling
(`diffcourse_staff`: course file, release, site, grading, grades), which never
ships to students.
"""

__version__ = "0.1.0"
