"""diffcourse: the course's own code.

The diffusion library (schedules, forward process, samplers, scores, control,
models, data, training, metrics, animations) lives in the top-level modules;
`diffcourse.release` builds and proves the course release; `diffcourse.site`
feeds the MkDocs site from the course file.
"""

__version__ = "0.1.0"
