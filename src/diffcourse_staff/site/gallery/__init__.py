"""The figure gallery: every figure and animation of the site, made by the course library.

One module per group of lectures (`lectures_01_05` ... `lectures_14_17`), the home
page's animations (`showcases`), helpers several groups share (`common`) and the
shared look and seeds (`style`). A figure is a function that writes one file; FIGURES
lists them in the order `make figures` makes them. The rebuild engine and its command
line are `diffcourse_staff.site.figures`; it works out each figure's inputs from the
code the function actually runs, so nothing here declares them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from diffcourse_staff.site.gallery import (
    lectures_01_05,
    lectures_06_11,
    lectures_12_13,
    lectures_14_17,
    showcases,
)


@dataclass(frozen=True)
class Figure:
    name: str  # file name in build/figures, e.g. "l02-schedules.png"
    make: Callable[[Path], None]  # writes the file at the given path


FIGURES: tuple[Figure, ...] = (
    Figure("showcase-sampling.gif", showcases.showcase_sampling),
    Figure("showcase-anagram.gif", showcases.showcase_anagram),
    Figure("showcase-interpolation.gif", showcases.showcase_interpolation),
    Figure("l01-noising-2d.png", lectures_01_05.l01_noising_2d),
    Figure("l02-schedules.png", lectures_01_05.l02_schedules),
    Figure("l02-forward-digits.png", lectures_01_05.l02_forward_digits),
    Figure("l03-posterior-variance.png", lectures_01_05.l03_posterior_variance),
    Figure("l03-ddpm-trajectory.png", lectures_01_05.l03_ddpm_trajectory),
    Figure("l04-score-field.png", lectures_01_05.l04_score_field),
    Figure("l04-langevin.png", lectures_01_05.l04_langevin),
    Figure("l05-sde-vs-ode.png", lectures_01_05.l05_sde_vs_ode),
    Figure("l06-ddim-steps.png", lectures_06_11.l06_ddim_steps),
    Figure("l07-guidance-grid.png", lectures_06_11.l07_guidance_grid),
    Figure("l08-slerp-norms.png", lectures_06_11.l08_slerp_norms),
    Figure("l08-anagrams.png", lectures_06_11.l08_anagrams),
    Figure("l09-inpainting.png", lectures_06_11.l09_inpainting),
    Figure("l10-timestep-embedding.png", lectures_06_11.l10_timestep_embedding),
    Figure("l11-custom-data.png", lectures_06_11.l11_custom_data),
    Figure("l12-paths.png", lectures_12_13.l12_paths),
    Figure("l12-reflow.png", lectures_12_13.l12_reflow),
    Figure("l13-few-step.png", lectures_12_13.l13_few_step),
    Figure("l14-superresolution.png", lectures_14_17.l14_superresolution),
    Figure("l15-latent.png", lectures_14_17.l15_latent),
    Figure("l16-evaluation.png", lectures_14_17.l16_evaluation),
    Figure("l17-audit.png", lectures_14_17.l17_audit),
)
