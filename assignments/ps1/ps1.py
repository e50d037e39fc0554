# %% [raw]
# # ASSIGNMENT CONFIG
# name: ps1
# files:
#     - ps1_support.py

# %% [markdown]
# # Problem set 1: from noise to data (DDPM)
#
# In this problem set you build a denoising diffusion probabilistic model (DDPM,
# [Ho, Jain and Abbeel, 2020](https://arxiv.org/abs/2006.11239)) from scratch, train it on a
# two-dimensional toy distribution, and watch it turn a cloud of Gaussian noise into samples
# of that distribution. Along the way you derive the mathematics that makes it work.
#
# | Part | Topic | Questions | Points |
# | --- | --- | --- | --- |
# | 1 | The forward process and its noise schedules | Q1 (written), Q2a, Q2b, Q3 (written), Q4 | 34 |
# | 2 | The reverse process, the ELBO and training | Q5 (written), Q6 (written), Q7, Q8 | 38 |
# | 3 | Sampling, and seeing it happen | Q9, Q10, Q11 (written) | 28 |
# | | | **Total** | **100** |
#
# Written questions are worth 40 points, code questions 60 points.
#
# ### How this problem set is graded
#
# - **Code questions** are graded automatically. After each one, a cell
#   `grader.check("q2a")` runs the *public* tests. They check shapes, dtypes and a few simple
#   limits, so that you get early feedback. **They are not the grade**: "All test cases
#   passed!" only means that nothing obvious is broken. On Gradescope, *hidden* tests compare
#   your functions with independent reference computations on new inputs (other schedules,
#   other shapes, `float32` and `float64`, every timestep from the first to the last) and
#   decide most of the points. Test your code beyond the public checks.
# - **Written questions** are graded by hand. Type your answer in the answer cell below each
#   question (Markdown, with LaTeX between `$...$` or `$$...$$`). Show your reasoning: the
#   rubric gives points for the steps, not only for the final formula.
# - The autograder re-runs your whole notebook from top to bottom, with a time limit per cell.
#   Keep it runnable: restart the kernel and run all cells before you submit. Do not modify
#   PyTorch or other libraries from your code (for instance `torch.allclose = ...`): the
#   autograder flags such submissions for manual review.
# - **A bug costs only its own function's points.** When the hidden tests of a question call
#   other functions of yours (the sampler calls your step, for instance), the grader gives
#   them the reference implementation of those functions, so a mistake in one function is
#   not charged again in every question that builds on it.
#
# ### Submitting and collaboration
#
# The section *Submitting* at the end of the notebook says what to upload where, with the
# course's collaboration and AI-use rules. The due date and the late-day policy are on the
# course site.

# %% [markdown]
# ## Setting up
#
# **On your computer:** unzip `ps1-student.zip`, and in the folder `ps1` it makes, create a
# virtual environment, install the requirements and start JupyterLab (the course site's
# problem-set page shows the same commands):
#
# ```bash
# python3 -m venv .venv
# source .venv/bin/activate          # Windows: .venv\Scripts\activate
# python -m pip install -r requirements.txt
# jupyter lab ps1.ipynb
# ```
#
# **On Google Colab:** open the notebook with *Open in Colab* on the problem-set page (or upload
# `ps1.ipynb` from the zip with *File > Upload notebook*) and run the next cell: it downloads the problem set's other files from the course site and installs its
# packages.
#
# Everything in this problem set runs on a CPU in about a minute; no GPU is needed.

# %%
# Initialize Otter
import otter

grader = otter.Notebook("ps1.ipynb")

# %%
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Image, display
from ps1_support import TimeMLP, particle_gif, sliced_wasserstein, two_moons

# Our networks are tiny: one thread is as fast as several, and much faster on a busy machine.
torch.set_num_threads(1)


# %% [markdown]
# ## Notation and the index convention
#
# **Mathematics (papers, lectures, written questions).** We follow Ho et al. The data point is
# $\mathbf{x}_0$; the forward process adds a little Gaussian noise at each of $T$ steps,
#
# $$
# q(\mathbf{x}_t \mid \mathbf{x}_{t-1}) = \mathcal{N}\!\left(\sqrt{\alpha_t}\,\mathbf{x}_{t-1},\ \beta_t \mathbf{I}\right),
# \qquad \alpha_t = 1 - \beta_t, \qquad t = 1, \dots, T,
# $$
#
# and we write $\bar\alpha_t = \prod_{s=1}^{t} \alpha_s$, with $\bar\alpha_0 = 1$ (no noise at all).
# $\boldsymbol{\epsilon} \sim \mathcal{N}(\mathbf{0}, \mathbf{I})$ always denotes standard Gaussian noise.
#
# **Code.** Python arrays start at 0, so the code numbers the same $T$ steps
# $t = 0, 1, \dots, T-1$: `betas[t]` is the variance of the step taken *at* timestep `t`, and
# `alphas_cumprod[t]`, written $\bar\alpha_t$ in the code descriptions below, is the product of
# `1 - betas[s]` over `s <= t`. The argument `x0` always means the clean data. The formulas
# are the same in both numberings; only the range of $t$ moves down by one, and the "no noise"
# value moves with it:
#
# $$
# \bar\alpha_{-1} := 1 \quad\text{in code (the clean data), just as } \bar\alpha_0 = 1 \text{ in the papers.}
# $$
#
# Define it explicitly wherever you need "$\bar\alpha$ one step before $t$": Python and
# PyTorch read `alphas_cumprod[t - 1]` at `t = 0` as `alphas_cumprod[-1]`, the **last** entry
# $\bar\alpha_{T-1} \approx 0$, without any error.
#
# **The rules every function in this problem set follows** (the hidden tests rely on them):
#
# - Timesteps `t` are a `torch.LongTensor` of shape `(B,)`, one per sample; the samples of a
#   batch may sit at different timesteps (for example `t = tensor([999, 500, 37, 1, 0])`).
# - Data have shape `(B, ...)`: `(B, 2)` for our 2D points, `(B, C, H, W)` for images. A
#   per-sample coefficient of shape `(B,)` must be reshaped to `(B, 1, ..., 1)` before it
#   multiplies the data. (Careful: with `B == 2` and 2D points, a coefficient of shape `(2,)`
#   broadcasts along the *feature* axis without any error, and gives wrong results.)
# - Results have the dtype and device of the data argument (`x0` or `x_t`): `float64` data
#   give `float64`-accurate results, `float32` data give `float32` results. The schedule
#   `alphas_cumprod` may be `float64` even when the data are `float32`: compute the
#   coefficients from it, then convert them with `.to(x0)`. Never hard-code `.float()`.
# - Functions that need randomness receive it: single steps take their `noise` as an argument;
#   `train_step` and `ddpm_sample` draw every random number from the `torch.Generator` they are
#   given (`torch.randn(..., generator=generator)`, `torch.randint(..., generator=generator)`).
# - Write everything yourself with PyTorch; do not import a diffusion library.

# %% [markdown]
# # Part 1: The forward process
#
# ## 1.1 The marginal $q(\mathbf{x}_t \mid \mathbf{x}_0)$
#
# Training a diffusion model needs noisy versions $\mathbf{x}_t$ of data points at random
# timesteps. Running the chain step by step would cost $t$ steps per sample; the next question
# shows that we can jump straight to any $t$.

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 8
# manual: true

# %% [markdown]
# **Question 1 (written, 8 points).**
#
# **(a)** (5 points) Starting from the one-step transitions
# $q(\mathbf{x}_t \mid \mathbf{x}_{t-1}) = \mathcal{N}(\sqrt{\alpha_t}\,\mathbf{x}_{t-1}, \beta_t\mathbf{I})$,
# prove by induction on $t$ that
#
# $$
# q(\mathbf{x}_t \mid \mathbf{x}_0) = \mathcal{N}\!\left(\sqrt{\bar\alpha_t}\,\mathbf{x}_0,\ (1-\bar\alpha_t)\,\mathbf{I}\right),
# \quad\text{that is,}\quad
# \mathbf{x}_t = \sqrt{\bar\alpha_t}\,\mathbf{x}_0 + \sqrt{1-\bar\alpha_t}\,\boldsymbol{\epsilon}.
# $$
#
# Name the property of Gaussian random variables that you use, and say where you use the fact
# that the noises of different steps are independent.
#
# **(b)** (3 points) Now let the data $\mathbf{x}_0$ be random with mean $\boldsymbol{\mu}$ and
# covariance $\boldsymbol{\Sigma}$ (not necessarily Gaussian), independent of the noise. Give
# the mean and covariance of $\mathbf{x}_t$. What happens to them as $\bar\alpha_t \to 0$, and
# what is special about data with $\boldsymbol{\Sigma} = \mathbf{I}$? (This is why DDPM is called
# a *variance-preserving* process.)

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# **Solution.**
#
# **(a)** Base case $t = 1$: $\bar\alpha_1 = \alpha_1$ and $q(\mathbf{x}_1\mid\mathbf{x}_0)$ is the one-step
# transition $\mathcal{N}(\sqrt{\alpha_1}\mathbf{x}_0, (1-\alpha_1)\mathbf{I})$, as claimed. (Starting at
# $t = 0$ works too: $\bar\alpha_0 = 1$ gives the point mass at $\mathbf{x}_0$.)
#
# Induction step: suppose $\mathbf{x}_{t-1} = \sqrt{\bar\alpha_{t-1}}\,\mathbf{x}_0 + \sqrt{1-\bar\alpha_{t-1}}\,\boldsymbol{\epsilon}'$
# with $\boldsymbol{\epsilon}' \sim \mathcal{N}(\mathbf{0},\mathbf{I})$. The transition gives
# $\mathbf{x}_t = \sqrt{\alpha_t}\,\mathbf{x}_{t-1} + \sqrt{\beta_t}\,\boldsymbol{\epsilon}_t$ with
# $\boldsymbol{\epsilon}_t \sim \mathcal{N}(\mathbf{0},\mathbf{I})$ **independent** of $\boldsymbol{\epsilon}'$
# (the noise of step $t$ is fresh; $\boldsymbol{\epsilon}'$ is built from the noises of steps $1..t-1$). Substituting,
#
# $$
# \mathbf{x}_t = \sqrt{\alpha_t\bar\alpha_{t-1}}\,\mathbf{x}_0 + \underbrace{\sqrt{\alpha_t(1-\bar\alpha_{t-1})}\,\boldsymbol{\epsilon}' + \sqrt{1-\alpha_t}\,\boldsymbol{\epsilon}_t}_{\text{sum of two independent Gaussians}} .
# $$
#
# Property used: a sum of independent Gaussian vectors is Gaussian, with the sum of the means and the
# sum of the covariances (equivalently, linear maps of jointly Gaussian vectors are Gaussian). The noise term
# therefore has mean $\mathbf{0}$ and covariance
# $\left[\alpha_t(1-\bar\alpha_{t-1}) + 1 - \alpha_t\right]\mathbf{I} = (1 - \alpha_t\bar\alpha_{t-1})\mathbf{I} = (1-\bar\alpha_t)\mathbf{I}$,
# because $\alpha_t\bar\alpha_{t-1} = \bar\alpha_t$. So it equals $\sqrt{1-\bar\alpha_t}\,\boldsymbol{\epsilon}$ in
# distribution for a standard $\boldsymbol{\epsilon}$, and the mean is $\sqrt{\bar\alpha_t}\,\mathbf{x}_0$. Independence is what
# lets the covariances add with no cross term. (Markov property: given $\mathbf{x}_0$, conditioning on the
# past only enters through $\mathbf{x}_{t-1}$.)
#
# **(b)** $\mathbb{E}[\mathbf{x}_t] = \sqrt{\bar\alpha_t}\,\boldsymbol{\mu}$ and
# $\operatorname{Cov}(\mathbf{x}_t) = \bar\alpha_t\boldsymbol{\Sigma} + (1-\bar\alpha_t)\mathbf{I}$ (independence
# again: no cross-covariance between $\mathbf{x}_0$ and $\boldsymbol{\epsilon}$). As $\bar\alpha_t\to 0$ the mean goes to
# $\mathbf{0}$ and the covariance to $\mathbf{I}$, whatever the data: $\mathbf{x}_T$ is close to $\mathcal{N}(\mathbf{0},\mathbf{I})$,
# where sampling starts. If $\boldsymbol{\Sigma} = \mathbf{I}$, the covariance is $\mathbf{I}$ at every $t$: the process
# preserves the variance (the signal shrinks by $\sqrt{\bar\alpha_t}$ exactly as much as noise is added), which is
# why data are normalised to roughly unit scale.
#
# **Rubric (8 points):**
# - (a) 1 pt: correct base case (t = 1, or t = 0 with $\bar\alpha_0 = 1$).
# - (a) 1 pt: writes $\mathbf{x}_t$ with the reparametrisation $\sqrt{\alpha_t}\mathbf{x}_{t-1} + \sqrt{\beta_t}\boldsymbol{\epsilon}_t$ and substitutes the hypothesis.
# - (a) 1 pt: names the property (sum of independent Gaussians is Gaussian; means and covariances add).
# - (a) 1 pt: says where independence of the step noises is used (covariances add, no cross term).
# - (a) 1 pt: the algebra $\alpha_t(1-\bar\alpha_{t-1}) + 1-\alpha_t = 1-\bar\alpha_t$ and the mean $\sqrt{\bar\alpha_t}\mathbf{x}_0$.
# - (b) 1 pt: mean $\sqrt{\bar\alpha_t}\boldsymbol{\mu}$ and covariance $\bar\alpha_t\boldsymbol{\Sigma}+(1-\bar\alpha_t)\mathbf{I}$.
# - (b) 1 pt: limit $\mathcal{N}(\mathbf{0},\mathbf{I})$-like moments as $\bar\alpha_t\to0$, independent of the data.
# - (b) 1 pt: with $\boldsymbol{\Sigma}=\mathbf{I}$ the covariance stays $\mathbf{I}$ for all $t$ (variance preserving).

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 1.2 Noise schedules
#
# A *schedule* fixes $\beta_0, \dots, \beta_{T-1}$ (code numbering from here on). Two classic
# choices, both with $T = 1000$:
#
# - **Linear** (Ho et al. 2020): the betas are evenly spaced, from `beta_start` $= 10^{-4}$ at
#   $t = 0$ to `beta_end` $= 0.02$ at $t = T-1$, both ends included.
# - **Cosine** ([Nichol and Dhariwal, 2021](https://arxiv.org/abs/2102.09672)): choose
#   $\bar\alpha$ itself to follow a squared cosine. With
#
#   $$
#   f(u) = \cos^2\!\left(\frac{u + s}{1 + s}\cdot\frac{\pi}{2}\right), \qquad u \in [0, 1],
#   $$
#
#   the betas are
#
#   $$
#   \beta_t = \min\!\left(1 - \frac{f\big((t+1)/T\big)}{f\big(t/T\big)},\ \beta_{\max}\right), \qquad t = 0, \dots, T-1,
#   $$
#
#   with the small offset $s = 0.008$ and $\beta_{\max} = 0.999$. Without the clipping,
#   $\bar\alpha_t = f((t+1)/T) / f(0)$ exactly; the clipping only matters at the very last
#   step, where the ratio goes to 0 because $f(1) = 0$.
#
# Both functions return a tensor of shape `(T,)` with the requested `dtype`. Compute in
# `float64` (or with Python floats) and convert at the end, so that a `float64` schedule is
# accurate to about $10^{-12}$.

# %% [raw]
# # BEGIN QUESTION
# name: q2a
# points: 5

# %% [raw]
# # BEGIN SOLUTION


# %%
def linear_betas(T=1000, beta_start=1e-4, beta_end=0.02, dtype=torch.float64):
    """The linear schedule: T betas evenly spaced from beta_start (t = 0) to beta_end (t = T-1)."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q2a: write linear_betas")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    return torch.linspace(beta_start, beta_end, T, dtype=torch.float64).to(dtype)  # (T,)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

_betas = linear_betas(10, 0.1, 0.2)
assert isinstance(_betas, torch.Tensor), "linear_betas must return a torch.Tensor"
assert _betas.shape == (10,), "linear_betas(T, ...) must return a tensor of shape (T,)"
assert _betas.dtype == torch.float64, "the default dtype is torch.float64"
assert abs(_betas[0].item() - 0.1) < 1e-12, "betas[0] must equal beta_start"
assert abs(_betas[-1].item() - 0.2) < 1e-12, "betas[T-1] must equal beta_end"

# %%
# HIDDEN
import torch

_lb = linear_betas()
_lb_ref = torch.tensor([1e-4 + (0.02 - 1e-4) * _i / 999 for _i in range(1000)], dtype=torch.float64)
assert isinstance(_lb, torch.Tensor) and _lb.shape == (1000,), (
    "linear_betas() must give 1000 betas by default"
)
assert _lb.dtype == torch.float64, (
    "linear_betas() must return float64 by default: check the dtype argument"
)
assert (_lb - _lb_ref).abs().max().item() < 1e-12, (
    "the default linear schedule is wrong: betas must be evenly spaced from 1e-4 to 0.02, both "
    "ends included"
)

# %%
# HIDDEN
import torch

_lb = linear_betas(7, 0.05, 0.4, dtype=torch.float32)
_lb_ref = torch.tensor([0.05 + 0.35 * _i / 6 for _i in range(7)], dtype=torch.float64)
assert isinstance(_lb, torch.Tensor) and _lb.shape == (7,), (
    "linear_betas(7, ...) must return 7 betas"
)
assert _lb.dtype == torch.float32, (
    "linear_betas must return the dtype it is asked for (here float32)"
)
assert (_lb.double() - _lb_ref).abs().max().item() < 1e-7, (
    "linear_betas(7, 0.05, 0.4): the betas are not evenly spaced between the two ends"
)

# %%
# HIDDEN
import torch

_lb = linear_betas(T=50, beta_start=0.001, beta_end=0.05, dtype=torch.float64)
_lb_ref = torch.tensor([0.001 + 0.049 * _i / 49 for _i in range(50)], dtype=torch.float64)
assert isinstance(_lb, torch.Tensor) and _lb.shape == (50,), (
    "linear_betas(T=50, ...) must return 50 betas"
)
assert _lb.dtype == torch.float64, "linear_betas must return the requested dtype"
assert (_lb - _lb_ref).abs().max().item() < 1e-12, (
    "linear_betas with keyword arguments T, beta_start, beta_end gives wrong values: check which "
    "argument is which"
)


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2b
# points: 7

# %% [raw]
# # BEGIN SOLUTION


# %%
def cosine_betas(T=1000, s=0.008, max_beta=0.999, dtype=torch.float64):
    """The cosine schedule: beta_t = min(1 - f((t+1)/T) / f(t/T), max_beta), f as above."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q2b: write cosine_betas")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    u = torch.arange(T + 1, dtype=torch.float64) / T  # (T+1,) the grid 0, 1/T, ..., 1
    f = torch.cos((u + s) / (1 + s) * math.pi / 2) ** 2  # (T+1,) unnormalised abar
    betas = 1 - f[1:] / f[:-1]  # (T,)
    return betas.clamp(max=max_beta).to(dtype)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

_betas = cosine_betas(100)
assert isinstance(_betas, torch.Tensor), "cosine_betas must return a torch.Tensor"
assert _betas.shape == (100,), "cosine_betas(T) must return a tensor of shape (T,)"
assert _betas.dtype == torch.float64, "the default dtype is torch.float64"
assert bool(torch.isfinite(_betas).all()), "cosine_betas returned NaN or inf"
assert bool((_betas > 0).all()), "every beta must be strictly positive"
assert bool((_betas <= 0.999 + 1e-12).all()), "no beta may exceed max_beta"

# %%
# HIDDEN
import math

import torch

_f = [math.cos((_i / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2 for _i in range(1001)]
_cb_ref = torch.tensor(
    [min(1 - _f[_i + 1] / _f[_i], 0.999) for _i in range(1000)], dtype=torch.float64
)
_cb = cosine_betas()
assert isinstance(_cb, torch.Tensor) and _cb.shape == (1000,), (
    "cosine_betas() must give 1000 betas by default"
)
assert _cb.dtype == torch.float64, "cosine_betas() must return float64 by default"
assert (_cb - _cb_ref).abs().max().item() < 1e-10, (
    "the default cosine schedule is wrong: check f (squared cosine, offset s, the pi/2), the ratio "
    "f((t+1)/T) / f(t/T) and the clipping"
)

# %%
# HIDDEN
import math

import torch

_f = [math.cos((_i / 50 + 0.1) / 1.1 * math.pi / 2) ** 2 for _i in range(51)]
_cb_ref = torch.tensor([min(1 - _f[_i + 1] / _f[_i], 0.5) for _i in range(50)], dtype=torch.float64)
_cb = cosine_betas(T=50, s=0.1, max_beta=0.5)
assert isinstance(_cb, torch.Tensor) and _cb.shape == (50,), (
    "cosine_betas(T=50, ...) must return 50 betas"
)
assert (_cb - _cb_ref).abs().max().item() < 1e-10, (
    "cosine_betas(T=50, s=0.1, max_beta=0.5) is wrong: use the arguments s and max_beta, and clip "
    "the betas (not abar) at max_beta"
)

# %%
# HIDDEN
import math

import torch

_f = [math.cos((_i / 20 + 0.008) / 1.008 * math.pi / 2) ** 2 for _i in range(21)]
_cb_ref = torch.tensor(
    [min(1 - _f[_i + 1] / _f[_i], 0.999) for _i in range(20)], dtype=torch.float64
)
_cb = cosine_betas(20, dtype=torch.float32)
assert isinstance(_cb, torch.Tensor) and _cb.shape == (20,), "cosine_betas(20) must return 20 betas"
assert _cb.dtype == torch.float32, (
    "cosine_betas must return the dtype it is asked for (here float32)"
)
assert (_cb.double() - _cb_ref).abs().max().item() < 1e-5, (
    "cosine_betas(20, dtype=torch.float32) gives wrong values"
)


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# The next cell compares the two schedules (nothing to write). It plots the signal coefficient
# $\sqrt{\bar\alpha_t}$, the noise coefficient $\sqrt{1-\bar\alpha_t}$, and the log
# signal-to-noise ratio $\log\big(\bar\alpha_t / (1-\bar\alpha_t)\big)$ against $t$.


# %%
def alphas_cumprod_from_betas(betas):
    """abar_t = prod_{s <= t} (1 - beta_s), shape (T,)."""
    return torch.cumprod(1 - betas, dim=0)


schedules = {"linear": linear_betas(), "cosine": cosine_betas()}
fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
for name, betas in schedules.items():
    if betas is None:
        print(f"The {name} schedule is not written yet.")
        continue
    abar = alphas_cumprod_from_betas(betas)
    steps = np.arange(len(abar))
    axes[0].plot(steps, abar.sqrt(), label=f"{name}: last value {abar[-1].sqrt().item():.1e}")
    axes[1].plot(steps, (1 - abar).sqrt(), label=name)
    axes[2].plot(
        steps,
        torch.log(abar / (1 - abar)),
        label=f"{name}: last value {torch.log(abar[-1] / (1 - abar[-1])).item():.1f}",
    )
axes[0].set_title(r"signal coefficient $\sqrt{\bar\alpha_t}$")
axes[1].set_title(r"noise coefficient $\sqrt{1-\bar\alpha_t}$")
axes[2].set_title(r"log SNR $\log(\bar\alpha_t / (1-\bar\alpha_t))$")
for ax in axes:
    ax.set_xlabel("timestep t (code numbering)")
    ax.legend()
plt.tight_layout()
plt.show()


# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 6
# manual: true

# %% [markdown]
# **Question 3 (written, 6 points): linear against cosine.**
#
# **(a)** (2 points) For $T = 1000$, how much of the signal is left at the last step $t = T-1$
# under each schedule? Give $\bar\alpha_{T-1}$ and the signal coefficient
# $\sqrt{\bar\alpha_{T-1}}$ for both (read them from the figure's legend, or compute them).
#
# **(b)** (4 points) Explain why these numbers matter. Address (i) what the sampler assumes
# about $\mathbf{x}_{T-1}$ and what happens when the training process leaves signal in it,
# (ii) how each schedule spreads its $T$ steps over noise levels (where does the linear
# schedule spend its last few hundred steps?), and (iii) one danger of driving
# $\bar\alpha_{T-1}$ all the way to (almost) zero, as the clipped cosine schedule does, for a
# model that predicts $\boldsymbol{\epsilon}$ and from which one computes
# $\hat{\mathbf{x}}_0 = (\mathbf{x}_t - \sqrt{1-\bar\alpha_t}\,\hat{\boldsymbol{\epsilon}})/\sqrt{\bar\alpha_t}$.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# **Solution.**
#
# **(a)** Linear: $\bar\alpha_{999} \approx 4.0\times10^{-5}$, so $\sqrt{\bar\alpha_{999}} \approx 6.4\times10^{-3}$
# (0.6% of the signal's amplitude; log SNR about $-10.1$). Cosine: the last beta is clipped at 0.999 and
# $\bar\alpha_{999} \approx 2.4\times10^{-9}$, $\sqrt{\bar\alpha_{999}} \approx 4.9\times10^{-5}$ (log SNR about $-19.8$).
#
# **(b)**
# (i) Sampling starts from pure noise $\mathcal{N}(\mathbf{0},\mathbf{I})$, i.e. it assumes that $\mathbf{x}_{T-1}$ carries
# no information about $\mathbf{x}_0$. During training the model only ever sees $\mathbf{x}_{T-1}$ with a residual
# $\sqrt{\bar\alpha_{T-1}}\,\mathbf{x}_0$ in it; if that residual is not negligible, the first sampling steps face inputs
# unlike anything seen in training (a train/test mismatch). Low-frequency information, e.g. the mean brightness of an
# image, then leaks through training but is never generated: models with a non-zero terminal SNR struggle to produce
# very dark or very bright images (Lin et al. 2024, "Common diffusion noise schedules and sample steps are flawed").
# For our unit-scale 2D data, 0.6% is harmless; for large images with strong low-frequency content it is not.
#
# (ii) The linear schedule destroys the signal fast: $\bar\alpha_t < 0.01$ already from $t \approx 673$, so its last third
# of the steps is spent on almost pure noise, where there is little left to learn or to denoise, and comparatively few
# steps sit at the intermediate noise levels where the structure of the data is decided. The cosine schedule keeps
# $\bar\alpha$ high for longer ($\bar\alpha_{500} \approx 0.49$ against $0.078$) and its log SNR falls roughly linearly in
# the middle, spreading the steps evenly over noise levels; it reaches $\bar\alpha < 0.01$ only after $t \approx 935$.
# (Nichol and Dhariwal found this helps most on low-resolution images.)
#
# (iii) $\hat{\mathbf{x}}_0$ divides the model's error by $\sqrt{\bar\alpha_t}$: at the cosine schedule's last step
# $1/\sqrt{\bar\alpha_{999}} \approx 2\times10^4$, so a tiny error in $\hat{\boldsymbol{\epsilon}}$ becomes a huge
# error in $\hat{\mathbf{x}}_0$ (and in the posterior mean built from it). Samplers that start at this step need to clip
# $\hat{\mathbf{x}}_0$ to the data range, or start at a slightly smaller $t$, or use a different prediction target
# (e.g. $\mathbf{v}$-prediction).
#
# **Rubric (6 points):**
# - (a) 1 pt: linear $\bar\alpha_{T-1} \approx 4\times10^{-5}$ and $\sqrt{\cdot} \approx 6\times10^{-3}$.
# - (a) 1 pt: cosine $\bar\alpha_{T-1} \approx 2.4\times10^{-9}$ and $\sqrt{\cdot} \approx 5\times10^{-5}$ (mentions the clip at 0.999 or reads it off correctly).
# - (b)(i) 1 pt: the sampler assumes no signal at $T-1$; leftover signal is a train/test mismatch (e.g. brightness bias).
# - (b)(ii) 1 pt: linear wastes many late steps at near-zero SNR; cosine spreads the noise levels more evenly (log SNR roughly linear).
# - (b)(iii) 1 pt: $1/\sqrt{\bar\alpha}$ amplifies the model's error enormously at the last cosine step.
# - (b)(iii) 1 pt: a sensible remedy (clipping $\hat{\mathbf{x}}_0$, not starting at the last step, v-prediction, a rescaled schedule).

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 1.3 Sampling from $q(\mathbf{x}_t \mid \mathbf{x}_0)$
#
# With Question 1, noising a batch at arbitrary timesteps is one line of mathematics:
#
# $$
# \mathbf{x}_t = \sqrt{\bar\alpha_t}\,\mathbf{x}_0 + \sqrt{1-\bar\alpha_t}\,\boldsymbol{\epsilon}.
# $$
#
# Write `q_sample(x0, t, noise, alphas_cumprod)`: `x0` and `noise` have the same shape
# `(B, ...)`, `t` is a LongTensor `(B,)` (each sample has its own timestep), `alphas_cumprod`
# has shape `(T,)`. Return $\mathbf{x}_t$ with the shape, dtype and device of `x0` (see the
# rules above: reshape the per-sample coefficients so that they broadcast over every
# non-batch dimension).

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 8

# %% [raw]
# # BEGIN SOLUTION


# %%
def q_sample(x0, t, noise, alphas_cumprod):
    """x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise, with each sample at its own timestep t."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q4: write q_sample")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    abar_t = alphas_cumprod[t]  # (B,)
    abar_t = abar_t.reshape(-1, *([1] * (x0.dim() - 1)))  # (B, 1, ..., 1)
    signal = abar_t.sqrt().to(x0)
    sigma = (1 - abar_t).sqrt().to(x0)
    return signal * x0 + sigma * noise  # (B, ...)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

_abar = torch.linspace(0.99, 0.01, 10, dtype=torch.float64)
_out = q_sample(
    torch.ones(3, 2, dtype=torch.float64),
    torch.tensor([0, 5, 9]),
    torch.zeros(3, 2, dtype=torch.float64),
    _abar,
)
assert isinstance(_out, torch.Tensor), "q_sample must return a torch.Tensor"
assert _out.shape == (3, 2), "x_t must have the shape of x0"
assert _out.dtype == torch.float64, "float64 data must give a float64 x_t"
assert bool(((_out > 0) & (_out < 1)).all()), "with zero noise, x_t must shrink x0 towards 0"

# %%
import torch

_abar = torch.linspace(0.99, 0.01, 10, dtype=torch.float64)
_x0 = torch.randn(4, 3, 5, 5, generator=torch.Generator().manual_seed(0))
_out = q_sample(
    _x0,
    torch.tensor([9, 0, 3, 3]),
    torch.randn(4, 3, 5, 5, generator=torch.Generator().manual_seed(1)),
    _abar,
)
assert isinstance(_out, torch.Tensor), "q_sample must return a torch.Tensor"
assert _out.shape == (4, 3, 5, 5), (
    "q_sample must work on images of shape (B, C, H, W): reshape the coefficients to (B, 1, 1, 1)"
)
assert _out.dtype == torch.float32, (
    "float32 data with a float64 schedule must give a float32 x_t: convert the coefficients with "
    ".to(x0)"
)

# %%
# HIDDEN
import math

import torch

_ab = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
_g = torch.Generator().manual_seed(11)
_x0 = torch.randn(2, 2, generator=_g, dtype=torch.float64) * 3 + 1
_eps = torch.randn(2, 2, generator=_g, dtype=torch.float64)
_t = torch.tensor([999, 3])
_ref = torch.stack(
    [
        math.sqrt(_ab[_t[_i]].item()) * _x0[_i] + math.sqrt(1 - _ab[_t[_i]].item()) * _eps[_i]
        for _i in range(2)
    ]
)
_out = q_sample(_x0, _t, _eps, _ab)
assert isinstance(_out, torch.Tensor) and _out.shape == (2, 2), (
    "q_sample on a batch of two 2D points must return shape (2, 2)"
)
assert _out.dtype == torch.float64, "float64 data must give float64 results"
assert (_out - _ref).abs().max().item() < 1e-12, (
    "q_sample is wrong on a batch of two 2D points: when B equals the data dimension, a "
    "coefficient of shape (B,) broadcasts along the feature axis; reshape it to (B, 1)"
)

# %%
# HIDDEN
import math

import torch

_fc = [math.cos((_i / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2 for _i in range(1001)]
_ab = torch.cumprod(
    1
    - torch.tensor(
        [min(1 - _fc[_i + 1] / _fc[_i], 0.999) for _i in range(1000)], dtype=torch.float64
    ),
    0,
)
_g = torch.Generator().manual_seed(12)
_x0 = torch.randn(5, 3, 4, 4, generator=_g, dtype=torch.float64)
_eps = torch.randn(5, 3, 4, 4, generator=_g, dtype=torch.float64)
_t = torch.tensor([999, 500, 37, 1, 0])
_ref = torch.stack(
    [
        math.sqrt(_ab[_t[_i]].item()) * _x0[_i] + math.sqrt(1 - _ab[_t[_i]].item()) * _eps[_i]
        for _i in range(5)
    ]
)
_out = q_sample(_x0, _t, _eps, _ab)
assert isinstance(_out, torch.Tensor) and _out.shape == (5, 3, 4, 4), (
    "q_sample on images (B, C, H, W) must return the shape of x0"
)
assert _out.dtype == torch.float64, "float64 data must give float64 results"
assert (_out - _ref).abs().max().item() < 1e-12, (
    "q_sample is wrong for a batch whose samples sit at different timesteps: use abar_t (the "
    "cumulative product) of each sample, inside square roots, for the signal and the noise"
)

# %%
# HIDDEN
import math

import torch

_ab32 = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0).float()
_g = torch.Generator().manual_seed(13)
_x0 = torch.randn(5, 2, generator=_g)
_eps = torch.randn(5, 2, generator=_g)
_t = torch.tensor([0, 1, 37, 500, 999])
_ref = torch.stack(
    [
        math.sqrt(_ab32[_t[_i]].item()) * _x0[_i].double()
        + math.sqrt(1 - _ab32[_t[_i]].item()) * _eps[_i].double()
        for _i in range(5)
    ]
)
_out = q_sample(_x0, _t, _eps, _ab32)
assert isinstance(_out, torch.Tensor) and _out.shape == (5, 2), (
    "q_sample must return the shape of x0"
)
assert _out.dtype == torch.float32, "float32 data and a float32 schedule must give float32 results"
assert (_out.double() - _ref).abs().max().item() < 1e-5, "q_sample in float32 gives wrong values"

# %%
# HIDDEN
import math

import torch

_ab = torch.cumprod(1 - torch.linspace(0.05, 0.3, 12, dtype=torch.float64), 0)
_x0 = torch.tensor([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0], [0.25, 0.75, 2.0]])
_eps = torch.tensor([[0.3, 0.1, -0.7], [-1.2, 0.4, 0.9], [2.0, -0.5, 0.0]])
_t = torch.tensor([11, 0, 6])
_ref = torch.stack(
    [
        math.sqrt(_ab[_t[_i]].item()) * _x0[_i].double()
        + math.sqrt(1 - _ab[_t[_i]].item()) * _eps[_i].double()
        for _i in range(3)
    ]
)
_out = q_sample(_x0, _t, _eps, _ab)
assert isinstance(_out, torch.Tensor) and _out.dtype == torch.float32, (
    "float32 data with a float64 schedule must give float32 results: convert the coefficients with "
    ".to(x0)"
)
assert (_out.double() - _ref).abs().max().item() < 1e-5, (
    "q_sample with float32 data and a float64 schedule gives wrong values (three samples, three "
    "features)"
)

# %%
# HIDDEN
# Arguments stay untouched; a batch of one keeps its batch dimension.
import math

import torch

_ab = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
_g = torch.Generator().manual_seed(14)
_x0 = torch.randn(1, 3, 2, 2, generator=_g)
_eps = torch.randn(1, 3, 2, 2, generator=_g)
_t = torch.tensor([250])
_saved = [_x0.clone(), _eps.clone(), _t.clone(), _ab.clone()]
_out = q_sample(_x0, _t, _eps, _ab)
assert isinstance(_out, torch.Tensor) and _out.shape == (1, 3, 2, 2), (
    "a batch of one image (1, C, H, W) must give x_t of shape (1, C, H, W): keep the batch "
    "dimension"
)
assert _out.dtype == torch.float32, "float32 data must give a float32 x_t"
assert all(
    torch.equal(_a, _b) and _a.dtype == _b.dtype
    for _a, _b in zip([_x0, _eps, _t, _ab], _saved, strict=True)
), "q_sample changed one of its arguments in place: compute new tensors, never modify x0 or noise"
_a = _ab[250].item()
_ref = math.sqrt(_a) * _saved[0].double() + math.sqrt(1 - _a) * _saved[1].double()
assert (_out.double() - _ref).abs().max().item() < 1e-5, (
    "q_sample is wrong for a batch of one image"
)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Here is the forward process at work on our data set, two interleaving half moons (nothing to
# write). Each panel shows the same 2000 points noised to timestep $t$ with the linear schedule
# (top) and the cosine schedule (bottom).

# %%
data = two_moons(2000, torch.Generator().manual_seed(0))  # (2000, 2) float32
show_t = [0, 100, 250, 500, 750, 999]
fig, axes = plt.subplots(2, len(show_t), figsize=(2.6 * len(show_t), 5.4), sharex=True, sharey=True)
for row, (name, betas) in enumerate(schedules.items()):
    abar = alphas_cumprod_from_betas(betas)
    noise = torch.randn(data.shape, generator=torch.Generator().manual_seed(1))
    for col, step in enumerate(show_t):
        x_t = q_sample(data, torch.full((len(data),), step), noise, abar)
        ax = axes[row, col]
        if x_t is not None:
            ax.scatter(x_t[:, 0], x_t[:, 1], s=1, alpha=0.5)
        ax.set_title(f"{name}, t = {step}")
        ax.set_xlim(-3.5, 3.5)
        ax.set_ylim(-3.5, 3.5)
        ax.set_aspect("equal")
plt.tight_layout()
plt.show()


# %% [markdown]
# # Part 2: The reverse process, the ELBO and training
#
# ## 2.1 The posterior $q(\mathbf{x}_{t-1} \mid \mathbf{x}_t, \mathbf{x}_0)$
#
# To generate data we must run the chain backwards, from noise to data. The reverse
# transition $q(\mathbf{x}_{t-1} \mid \mathbf{x}_t)$ is intractable (it depends on the whole
# data distribution), but once we also condition on $\mathbf{x}_0$ it is a Gaussian in closed
# form. (Paper numbering, $t = 1, \dots, T$, $\bar\alpha_0 = 1$.)

# %% [raw]
# # BEGIN QUESTION
# name: q5
# points: 10
# manual: true

# %% [markdown]
# **Question 5 (written, 10 points).**
#
# **(a)** (6 points) Use Bayes' rule,
# $q(\mathbf{x}_{t-1}\mid\mathbf{x}_t,\mathbf{x}_0) \propto q(\mathbf{x}_t\mid\mathbf{x}_{t-1})\,q(\mathbf{x}_{t-1}\mid\mathbf{x}_0)$
# (why may you drop $\mathbf{x}_0$ from the first factor?), and complete the square in
# $\mathbf{x}_{t-1}$ to show that
# $q(\mathbf{x}_{t-1}\mid\mathbf{x}_t,\mathbf{x}_0) = \mathcal{N}\big(\tilde{\boldsymbol{\mu}}_t(\mathbf{x}_t,\mathbf{x}_0),\ \tilde\beta_t\mathbf{I}\big)$ with
#
# $$
# \tilde{\boldsymbol{\mu}}_t(\mathbf{x}_t,\mathbf{x}_0) = \frac{\sqrt{\bar\alpha_{t-1}}\,\beta_t}{1-\bar\alpha_t}\,\mathbf{x}_0 + \frac{\sqrt{\alpha_t}\,(1-\bar\alpha_{t-1})}{1-\bar\alpha_t}\,\mathbf{x}_t,
# \qquad
# \tilde\beta_t = \frac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t}\,\beta_t .
# $$
#
# **(b)** (2 points) A network that predicts the noise gives
# $\hat{\mathbf{x}}_0 = \big(\mathbf{x}_t - \sqrt{1-\bar\alpha_t}\,\hat{\boldsymbol{\epsilon}}\big)/\sqrt{\bar\alpha_t}$.
# Substitute it into $\tilde{\boldsymbol{\mu}}_t$ and show that
#
# $$
# \tilde{\boldsymbol{\mu}}_t = \frac{1}{\sqrt{\alpha_t}}\left(\mathbf{x}_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}\,\hat{\boldsymbol{\epsilon}}\right).
# $$
#
# **(c)** (2 points) What are $\tilde{\boldsymbol{\mu}}_1$ and $\tilde\beta_1$ (the last step of
# sampling, code timestep $t = 0$)? What does this tell you about adding noise at that step?

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# **Solution.**
#
# **(a)** The forward chain is Markov: given $\mathbf{x}_{t-1}$, the next state does not depend on $\mathbf{x}_0$, so
# $q(\mathbf{x}_t\mid\mathbf{x}_{t-1},\mathbf{x}_0) = q(\mathbf{x}_t\mid\mathbf{x}_{t-1})$. Bayes' rule (with the
# normaliser $q(\mathbf{x}_t\mid\mathbf{x}_0)$, which does not involve $\mathbf{x}_{t-1}$) gives, up to terms free of
# $\mathbf{x}_{t-1}$,
#
# $$
# -2\log q(\mathbf{x}_{t-1}\mid\mathbf{x}_t,\mathbf{x}_0)
# = \frac{\|\mathbf{x}_t-\sqrt{\alpha_t}\mathbf{x}_{t-1}\|^2}{\beta_t} + \frac{\|\mathbf{x}_{t-1}-\sqrt{\bar\alpha_{t-1}}\mathbf{x}_0\|^2}{1-\bar\alpha_{t-1}} + \text{const}.
# $$
#
# Expanding, the quadratic term in $\mathbf{x}_{t-1}$ has coefficient (precision)
#
# $$
# \frac{\alpha_t}{\beta_t} + \frac{1}{1-\bar\alpha_{t-1}} = \frac{\alpha_t(1-\bar\alpha_{t-1}) + \beta_t}{\beta_t(1-\bar\alpha_{t-1})} = \frac{1-\bar\alpha_t}{\beta_t(1-\bar\alpha_{t-1})},
# $$
#
# using $\alpha_t - \bar\alpha_t + 1 - \alpha_t = 1 - \bar\alpha_t$. Its inverse is the variance, $\tilde\beta_t = \beta_t(1-\bar\alpha_{t-1})/(1-\bar\alpha_t)$.
# The linear term is $-2\,\mathbf{x}_{t-1}^\top\big(\tfrac{\sqrt{\alpha_t}}{\beta_t}\mathbf{x}_t + \tfrac{\sqrt{\bar\alpha_{t-1}}}{1-\bar\alpha_{t-1}}\mathbf{x}_0\big)$,
# so completing the square gives the mean as variance times that vector:
#
# $$
# \tilde{\boldsymbol{\mu}}_t = \tilde\beta_t\left(\frac{\sqrt{\alpha_t}}{\beta_t}\mathbf{x}_t + \frac{\sqrt{\bar\alpha_{t-1}}}{1-\bar\alpha_{t-1}}\mathbf{x}_0\right)
# = \frac{\sqrt{\alpha_t}(1-\bar\alpha_{t-1})}{1-\bar\alpha_t}\mathbf{x}_t + \frac{\sqrt{\bar\alpha_{t-1}}\,\beta_t}{1-\bar\alpha_t}\mathbf{x}_0 .
# $$
#
# A density proportional to $\exp(-\tfrac{1}{2\tilde\beta_t}\|\mathbf{x}_{t-1}-\tilde{\boldsymbol{\mu}}_t\|^2)$ is the Gaussian $\mathcal{N}(\tilde{\boldsymbol{\mu}}_t, \tilde\beta_t\mathbf{I})$.
#
# **(b)** With $\sqrt{\bar\alpha_{t-1}}/\sqrt{\bar\alpha_t} = 1/\sqrt{\alpha_t}$, the $\mathbf{x}_0$ term becomes
# $\frac{\beta_t}{\sqrt{\alpha_t}(1-\bar\alpha_t)}\big(\mathbf{x}_t - \sqrt{1-\bar\alpha_t}\,\hat{\boldsymbol{\epsilon}}\big)$. The total coefficient of
# $\mathbf{x}_t$ is $\frac{\alpha_t(1-\bar\alpha_{t-1}) + \beta_t}{\sqrt{\alpha_t}(1-\bar\alpha_t)} = \frac{1}{\sqrt{\alpha_t}}$ (same identity as in (a)), and the
# coefficient of $\hat{\boldsymbol{\epsilon}}$ is $-\frac{\beta_t\sqrt{1-\bar\alpha_t}}{\sqrt{\alpha_t}(1-\bar\alpha_t)} = -\frac{1}{\sqrt{\alpha_t}}\frac{\beta_t}{\sqrt{1-\bar\alpha_t}}$. Together they give the stated form.
#
# **(c)** With $\bar\alpha_0 = 1$: $\tilde\beta_1 = 0$ and $\tilde{\boldsymbol{\mu}}_1 = \frac{\beta_1}{1-\alpha_1}\mathbf{x}_0 + 0 = \mathbf{x}_0$
# (in terms of the network: $\tilde{\boldsymbol{\mu}}_1 = \hat{\mathbf{x}}_0$). The last step is deterministic: the sampler returns its clean
# estimate and must add no noise (any noise added there would stay in the final sample). In code, $t = 0$, with
# $\bar\alpha_{-1} := 1$; reading `alphas_cumprod[-1]` instead would give a variance near 1.
#
# **Rubric (10 points):**
# - (a) 1 pt: Markov property justifies dropping $\mathbf{x}_0$ from $q(\mathbf{x}_t\mid\mathbf{x}_{t-1},\mathbf{x}_0)$.
# - (a) 1 pt: writes the two Gaussian factors with the right means and variances ($\beta_t$ and $1-\bar\alpha_{t-1}$).
# - (a) 2 pts: precision $\alpha_t/\beta_t + 1/(1-\bar\alpha_{t-1})$ simplified correctly to $1/\tilde\beta_t$.
# - (a) 2 pts: linear term and completed square giving $\tilde{\boldsymbol{\mu}}_t$ (1 pt for the method, 1 pt for the coefficients).
# - (b) 2 pts: substitution with both coefficient simplifications shown.
# - (c) 1 pt: $\tilde\beta_1 = 0$ and $\tilde{\boldsymbol{\mu}}_1 = \mathbf{x}_0$ (or $\hat{\mathbf{x}}_0$).
# - (c) 1 pt: conclusion: no noise at the final step (deterministic), and/or the $\bar\alpha_{-1}$ pitfall in code.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 2.2 From the ELBO to a noise-prediction loss
#
# The reverse model is a chain of Gaussians
# $p_\theta(\mathbf{x}_{t-1}\mid\mathbf{x}_t) = \mathcal{N}\big(\boldsymbol{\mu}_\theta(\mathbf{x}_t, t), \sigma_t^2\mathbf{I}\big)$,
# with fixed variances $\sigma_t^2$ and $p(\mathbf{x}_T) = \mathcal{N}(\mathbf{0},\mathbf{I})$. It is trained by minimising the
# negative evidence lower bound, which (as shown in the lecture) splits into
#
# $$
# \mathbb{E}_q\Big[\underbrace{D_{\mathrm{KL}}\big(q(\mathbf{x}_T\mid\mathbf{x}_0)\,\|\,p(\mathbf{x}_T)\big)}_{L_T}
# + \sum_{t=2}^{T}\underbrace{D_{\mathrm{KL}}\big(q(\mathbf{x}_{t-1}\mid\mathbf{x}_t,\mathbf{x}_0)\,\|\,p_\theta(\mathbf{x}_{t-1}\mid\mathbf{x}_t)\big)}_{L_{t-1}}
# \underbrace{-\log p_\theta(\mathbf{x}_0\mid\mathbf{x}_1)}_{L_0}\Big] \;\ge\; -\log p_\theta(\mathbf{x}_0).
# $$

# %% [raw]
# # BEGIN QUESTION
# name: q6
# points: 10
# manual: true

# %% [markdown]
# **Question 6 (written, 10 points).**
#
# **(a)** (3 points) Using the KL divergence between two Gaussians with isotropic covariances,
# show that
# $L_{t-1} = \dfrac{1}{2\sigma_t^2}\,\big\|\tilde{\boldsymbol{\mu}}_t(\mathbf{x}_t,\mathbf{x}_0) - \boldsymbol{\mu}_\theta(\mathbf{x}_t,t)\big\|^2 + C_t$,
# where $C_t$ does not depend on $\theta$.
#
# **(b)** (4 points) Parametrise the mean like the posterior mean of Question 5(b),
# $\boldsymbol{\mu}_\theta(\mathbf{x}_t,t) = \frac{1}{\sqrt{\alpha_t}}\big(\mathbf{x}_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}\,\boldsymbol{\epsilon}_\theta(\mathbf{x}_t,t)\big)$,
# and write $\mathbf{x}_t = \sqrt{\bar\alpha_t}\,\mathbf{x}_0 + \sqrt{1-\bar\alpha_t}\,\boldsymbol{\epsilon}$. Show that
#
# $$
# L_{t-1} = \lambda_t\,\mathbb{E}_{\mathbf{x}_0,\boldsymbol{\epsilon}}\Big\|\boldsymbol{\epsilon} - \boldsymbol{\epsilon}_\theta\big(\sqrt{\bar\alpha_t}\,\mathbf{x}_0 + \sqrt{1-\bar\alpha_t}\,\boldsymbol{\epsilon},\ t\big)\Big\|^2 + C_t
# $$
#
# and give the weight $\lambda_t$ in terms of $\beta_t, \alpha_t, \bar\alpha_t, \sigma_t^2$.
#
# **(c)** (3 points) Why does $L_T$ not matter for training? Ho et al. drop the weights
# $\lambda_t$ and train on $L_{\text{simple}} = \mathbb{E}_{t,\mathbf{x}_0,\boldsymbol{\epsilon}}\|\boldsymbol{\epsilon}-\boldsymbol{\epsilon}_\theta(\mathbf{x}_t,t)\|^2$
# with $t$ uniform. For $\sigma_t^2 = \tilde\beta_t$, simplify $\lambda_t$ and say which
# timesteps $L_{\text{simple}}$ weights more, relative to the ELBO, and what this trade-off
# buys.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# **Solution.**
#
# **(a)** For $d$-dimensional Gaussians,
# $D_{\mathrm{KL}}(\mathcal{N}(\mathbf{m}_1, s_1^2\mathbf{I})\,\|\,\mathcal{N}(\mathbf{m}_2, s_2^2\mathbf{I}))
# = \frac{1}{2}\Big[d\,\frac{s_1^2}{s_2^2} - d + d\log\frac{s_2^2}{s_1^2} + \frac{\|\mathbf{m}_1-\mathbf{m}_2\|^2}{s_2^2}\Big]$.
# Here $s_1^2 = \tilde\beta_t$ and $s_2^2 = \sigma_t^2$ are fixed, so every term except the last is a constant
# $C_t$, and the last one is $\frac{1}{2\sigma_t^2}\|\tilde{\boldsymbol{\mu}}_t - \boldsymbol{\mu}_\theta\|^2$.
#
# **(b)** By Question 5(b) with the true noise, $\tilde{\boldsymbol{\mu}}_t(\mathbf{x}_t,\mathbf{x}_0) = \frac{1}{\sqrt{\alpha_t}}\big(\mathbf{x}_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}\boldsymbol{\epsilon}\big)$
# when $\mathbf{x}_t = \sqrt{\bar\alpha_t}\mathbf{x}_0 + \sqrt{1-\bar\alpha_t}\boldsymbol{\epsilon}$. The $\mathbf{x}_t$ terms cancel in the difference:
#
# $$
# \tilde{\boldsymbol{\mu}}_t - \boldsymbol{\mu}_\theta = \frac{\beta_t}{\sqrt{\alpha_t}\sqrt{1-\bar\alpha_t}}\big(\boldsymbol{\epsilon}_\theta(\mathbf{x}_t,t) - \boldsymbol{\epsilon}\big),
# \qquad\text{so}\qquad
# \lambda_t = \frac{\beta_t^2}{2\sigma_t^2\,\alpha_t\,(1-\bar\alpha_t)} .
# $$
#
# Taking the expectation over $\mathbf{x}_0$ and $\boldsymbol{\epsilon}$ (which is how $\mathbf{x}_t$ is distributed) gives the stated form.
#
# **(c)** $L_T$ compares $q(\mathbf{x}_T\mid\mathbf{x}_0)$ (fixed by the schedule) with the fixed prior $\mathcal{N}(\mathbf{0},\mathbf{I})$: no parameter
# enters, so it is a constant (and tiny when $\bar\alpha_T\approx 0$). With $\sigma_t^2 = \tilde\beta_t = \beta_t(1-\bar\alpha_{t-1})/(1-\bar\alpha_t)$,
#
# $$
# \lambda_t = \frac{\beta_t}{2\,\alpha_t\,(1-\bar\alpha_{t-1})} .
# $$
#
# This weight is largest for small $t$ (e.g. $t = 2$: $1-\bar\alpha_1 = \beta_1$, so $\lambda_2 = \beta_2/(2\alpha_2\beta_1) \approx 0.6$ with the
# linear schedule, while $\lambda_t \approx 0.005$ to $0.01$ for $t \gtrsim 500$); so relative to the ELBO, the uniform $L_{\text{simple}}$ down-weights the small-$t$ terms (easy,
# nearly noise-free denoising) and up-weights the large-$t$ terms (hard denoising from heavy noise, where the global
# structure of the sample is decided). The trade-off: better sample quality (Ho et al. report better FID) and a
# simpler, more stable objective, at the price of a worse likelihood (log-likelihood bound), since it no longer
# optimises the ELBO itself.
#
# **Rubric (10 points):**
# - (a) 1 pt: correct Gaussian KL formula (or the relevant part of it).
# - (a) 2 pts: identifies that the variance terms are constant in $\theta$ and isolates $\frac{1}{2\sigma_t^2}\|\cdot\|^2$.
# - (b) 2 pts: writes $\tilde{\boldsymbol{\mu}}_t$ in the $\boldsymbol{\epsilon}$-form with the true noise and shows the $\mathbf{x}_t$ terms cancel.
# - (b) 2 pts: correct $\lambda_t = \beta_t^2 / (2\sigma_t^2\alpha_t(1-\bar\alpha_t))$.
# - (c) 1 pt: $L_T$ has no trainable parameters (constant).
# - (c) 1 pt: $\lambda_t = \beta_t / (2\alpha_t(1-\bar\alpha_{t-1}))$ for $\sigma_t^2 = \tilde\beta_t$.
# - (c) 1 pt: $L_{\text{simple}}$ down-weights small $t$ / up-weights large $t$ relative to the ELBO, with the benefit (sample quality) and the cost (likelihood).

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 2.3 The training loss
#
# Question 6 says: train a network $\boldsymbol{\epsilon}_\theta(\mathbf{x}_t, t)$ to predict the noise that was added.
# Write `dsm_loss(model, x0, t, noise, alphas_cumprod)` (for *denoising score matching*; you
# will see the connection to scores in problem set 2):
#
# 1. noise `x0` to $\mathbf{x}_t$ with your `q_sample`, using the given `t` and `noise`;
# 2. call the model **once** as `model(x_t, t)`;
# 3. return the mean squared error between the model's output and the noise, averaged over
#    **every element** of the batch (all samples and all coordinates), as a scalar tensor that
#    can be back-propagated (do not call `.item()` here).

# %% [raw]
# # BEGIN QUESTION
# name: q7
# points: 8

# %% [raw]
# # BEGIN SOLUTION


# %%
def dsm_loss(model, x0, t, noise, alphas_cumprod):
    """The simple DDPM loss: mean over all elements of (eps_theta(x_t, t) - noise)^2."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q7: write dsm_loss")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    x_t = q_sample(x0, t, noise, alphas_cumprod)  # (B, ...)
    eps_hat = model(x_t, t)  # (B, ...)
    return ((eps_hat - noise) ** 2).mean()
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

_abar = torch.linspace(0.9, 0.1, 5, dtype=torch.float64)
_x0 = torch.randn(6, 2, generator=torch.Generator().manual_seed(0))
_z = torch.randn(6, 2, generator=torch.Generator().manual_seed(1))
_out = dsm_loss(
    lambda x, t, labels=None: torch.zeros_like(x), _x0, torch.tensor([0, 1, 2, 3, 4, 4]), _z, _abar
)
assert isinstance(_out, torch.Tensor), "dsm_loss must return a torch.Tensor (do not call .item())"
assert _out.dim() == 0, "dsm_loss must return a scalar: average over the whole batch"
assert bool(torch.isfinite(_out)) and _out.item() > 0, (
    "a model that predicts zeros must have a positive, finite loss"
)
_out2 = dsm_loss(
    lambda x, t, labels=None: _z.clone(), _x0, torch.tensor([0, 1, 2, 3, 4, 4]), _z, _abar
)
assert isinstance(_out2, torch.Tensor) and abs(_out2.item()) < 1e-12, (
    "a model that predicts the added noise exactly must have zero loss"
)

# %%
# HIDDEN
import math

import torch

_ab = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
_g = torch.Generator().manual_seed(21)
_x0 = torch.randn(5, 2, generator=_g, dtype=torch.float64)
_eps = torch.randn(5, 2, generator=_g, dtype=torch.float64)
_t = torch.tensor([999, 500, 37, 1, 0])
_seen = []


def _mdl(x, t, labels=None):
    _seen.append((x.detach().clone(), t.clone()))
    return 0.5 * x + 0.001 * t.to(x.dtype).reshape(-1, 1)


_xt_ref = torch.stack(
    [
        math.sqrt(_ab[_t[_i]].item()) * _x0[_i] + math.sqrt(1 - _ab[_t[_i]].item()) * _eps[_i]
        for _i in range(5)
    ]
)
_ref = ((0.5 * _xt_ref + 0.001 * _t.double().reshape(-1, 1) - _eps) ** 2).mean().item()
_out = dsm_loss(_mdl, _x0, _t, _eps, _ab)
assert isinstance(_out, torch.Tensor) and _out.dim() == 0, "dsm_loss must return a scalar tensor"
assert len(_seen) == 1, "dsm_loss must call the model exactly once"
assert torch.equal(_seen[0][1], _t), (
    "the model must be called with the same timesteps t that dsm_loss received"
)
assert (_seen[0][0] - _xt_ref).abs().max().item() < 1e-12, (
    "the model must be called on x_t = q_sample(x0, t, noise, alphas_cumprod)"
)
assert abs(_out.item() - _ref) < 1e-12 * max(1.0, abs(_ref)), (
    "the loss value is wrong: the target is the noise, and the mean runs over every element"
)

# %%
# HIDDEN
import math

import torch

_fc = [math.cos((_i / 200 + 0.008) / 1.008 * math.pi / 2) ** 2 for _i in range(201)]
_ab = torch.cumprod(
    1
    - torch.tensor(
        [min(1 - _fc[_i + 1] / _fc[_i], 0.999) for _i in range(200)], dtype=torch.float64
    ),
    0,
)
_x0 = torch.tensor([[1.5, -0.5], [0.2, 2.0]], dtype=torch.float64)
_eps = torch.tensor([[0.3, -1.1], [0.8, 0.4]], dtype=torch.float64)
_t = torch.tensor([150, 7])
_w = torch.tensor([[0.9, -0.3], [0.2, 0.7]], dtype=torch.float64)
_xt_ref = torch.stack(
    [
        math.sqrt(_ab[_t[_i]].item()) * _x0[_i] + math.sqrt(1 - _ab[_t[_i]].item()) * _eps[_i]
        for _i in range(2)
    ]
)
_ref = ((_xt_ref @ _w - _eps) ** 2).mean().item()
_out = dsm_loss(lambda x, t, labels=None: x @ _w, _x0, _t, _eps, _ab)
assert isinstance(_out, torch.Tensor) and _out.dim() == 0, "dsm_loss must return a scalar tensor"
assert abs(_out.item() - _ref) < 1e-12, (
    "dsm_loss is wrong on a batch of two 2D points: check how the per-sample coefficients "
    "broadcast, and the target"
)

# %%
# HIDDEN
import math

import torch

_ab = torch.cumprod(1 - torch.linspace(0.01, 0.2, 30, dtype=torch.float64), 0)
_g = torch.Generator().manual_seed(22)
_x0 = torch.randn(4, 2, generator=_g, dtype=torch.float64)
_eps = torch.randn(4, 2, generator=_g, dtype=torch.float64)
_t = torch.tensor([29, 0, 14, 3])
_lin = torch.nn.Linear(2, 2).double()
with torch.no_grad():
    _ = _lin.weight.copy_(torch.tensor([[0.5, -0.2], [0.3, 0.8]]))
    _ = _lin.bias.copy_(torch.tensor([0.1, -0.4]))
_w0 = _lin.weight.detach().clone().requires_grad_(True)
_b0 = _lin.bias.detach().clone().requires_grad_(True)
_xt_ref = torch.stack(
    [
        math.sqrt(_ab[_t[_i]].item()) * _x0[_i] + math.sqrt(1 - _ab[_t[_i]].item()) * _eps[_i]
        for _i in range(4)
    ]
)
_ref = ((_xt_ref @ _w0.T + _b0 - _eps) ** 2).mean()
_ref.backward()
_out = dsm_loss(lambda x, t, labels=None: _lin(x), _x0, _t, _eps, _ab)
assert isinstance(_out, torch.Tensor) and _out.requires_grad, (
    "dsm_loss must return a tensor that can be back-propagated: do not call .item() or .detach()"
)
_out.backward()
assert _lin.weight.grad is not None, "no gradient reached the model parameters"
assert (_lin.weight.grad - _w0.grad).abs().max().item() < 1e-12 and (
    _lin.bias.grad - _b0.grad
).abs().max().item() < 1e-12, (
    "the gradient of dsm_loss is wrong: check the scale of the loss (a mean over every element)"
)

# %%
# HIDDEN
import math

import torch

_ab = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
_g = torch.Generator().manual_seed(23)
_x0 = torch.randn(3, 1, 4, 5, generator=_g)
_eps = torch.randn(3, 1, 4, 5, generator=_g)
_t = torch.tensor([10, 999, 400])
_xt_ref = torch.stack(
    [
        math.sqrt(_ab[_t[_i]].item()) * _x0[_i].double()
        + math.sqrt(1 - _ab[_t[_i]].item()) * _eps[_i].double()
        for _i in range(3)
    ]
)
_ref = ((-0.7 * _xt_ref - _eps.double()) ** 2).mean().item()
_out = dsm_loss(lambda x, t, labels=None: -0.7 * x, _x0, _t, _eps, _ab)
assert isinstance(_out, torch.Tensor) and _out.dim() == 0, (
    "dsm_loss on images must return a scalar tensor"
)
assert abs(_out.item() - _ref) < 1e-5 * max(1.0, abs(_ref)), (
    "dsm_loss on images (B, C, H, W) is wrong: average over every pixel of every image"
)

# %%
# HIDDEN
# Arguments stay untouched; float32 data give a float32 loss; the model sees integer timesteps.
import math

import torch

_ab = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
_g = torch.Generator().manual_seed(24)
_x0 = torch.randn(1, 2, generator=_g)
_eps = torch.randn(1, 2, generator=_g)
_t = torch.tensor([640])
_saved = [_x0.clone(), _eps.clone(), _t.clone(), _ab.clone()]
_seen = []


def _mdl(x, t, labels=None):
    _seen.append((x.shape, x.dtype, t.dtype, t.shape))
    return 0.25 * x + 0.5


_out = dsm_loss(_mdl, _x0, _t, _eps, _ab)
assert _seen == [(torch.Size([1, 2]), torch.float32, torch.int64, torch.Size([1]))], (
    "for a batch of one float32 point the model must be called once, on x_t of shape (1, D) and "
    "dtype float32, with the LongTensor t of shape (1,)"
)
assert isinstance(_out, torch.Tensor) and _out.dim() == 0 and _out.dtype == torch.float32, (
    "float32 data must give a float32 scalar loss (do not convert to float64 or to a Python number)"
)
assert all(
    torch.equal(_a, _b) and _a.dtype == _b.dtype
    for _a, _b in zip([_x0, _eps, _t, _ab], _saved, strict=True)
), "dsm_loss changed one of its arguments in place: never modify x0, t or noise (use new tensors)"
_a = _ab[640].item()
_xt = math.sqrt(_a) * _saved[0].double() + math.sqrt(1 - _a) * _saved[1].double()
_ref = ((0.25 * _xt + 0.5 - _saved[1].double()) ** 2).mean().item()
assert abs(_out.item() - _ref) < 1e-5 * max(1.0, _ref), "dsm_loss is wrong for a batch of one point"


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 2.4 One training step
#
# Write `train_step(model, optimizer, x0, alphas_cumprod, generator)`, one step of Algorithm 1
# of Ho et al. on a batch `x0` of shape `(B, ...)`:
#
# 1. draw one timestep per sample, uniformly from $\{0, \dots, T-1\}$ (`T` is the length of
#    `alphas_cumprod`): `torch.randint(..., generator=generator)`, a LongTensor of shape `(B,)`;
# 2. draw standard Gaussian noise of the shape and dtype of `x0` with
#    `torch.randn(..., generator=generator)`;
# 3. compute `dsm_loss`, then make one optimizer step: clear the old gradients,
#    back-propagate, step;
# 4. return the loss as a Python float (`loss.item()`), for plotting.
#
# Draw every random number from `generator` (nothing from the global random state), so that a
# run can be reproduced exactly.

# %% [raw]
# # BEGIN QUESTION
# name: q8
# points: 10

# %% [raw]
# # BEGIN SOLUTION


# %%
def train_step(model, optimizer, x0, alphas_cumprod, generator):
    """One DDPM training step on the batch x0; returns the loss as a float."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q8: write train_step")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    T = alphas_cumprod.shape[0]
    t = torch.randint(0, T, (x0.shape[0],), generator=generator, device=generator.device)  # (B,)
    t = t.to(x0.device)
    noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype, device=generator.device)
    noise = noise.to(x0.device)  # (B, ...)
    loss = dsm_loss(model, x0, t, noise, alphas_cumprod)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch


class _Lin(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.eye(2))
        self.t_seen = []

    def forward(self, x, t, labels=None):
        self.t_seen.append(t)
        return x @ self.w


_m = _Lin()
_optim = torch.optim.SGD(_m.parameters(), lr=0.1)
_x0 = torch.randn(8, 2, generator=torch.Generator().manual_seed(0))
_out = train_step(
    _m,
    _optim,
    _x0,
    torch.linspace(0.9, 0.1, 5, dtype=torch.float64),
    torch.Generator().manual_seed(1),
)
assert isinstance(_out, float), "train_step must return the loss as a Python float (loss.item())"
assert _out == _out and _out > 0, "the loss must be a positive number"
assert len(_m.t_seen) == 1 and _m.t_seen[0].dtype == torch.int64 and _m.t_seen[0].shape == (8,), (
    "the model must be called once, with t a LongTensor of shape (B,)"
)
assert not torch.equal(_m.w.detach(), torch.eye(2)), (
    "the parameters did not change: did the optimizer take its step?"
)

# %%
# HIDDEN
import torch

_T = 8
_ab = torch.cumprod(1 - torch.linspace(0.05, 0.5, _T, dtype=torch.float64), 0)


class _Rec(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([[0.3, -0.2], [0.1, 0.4]]))
        self.c = torch.nn.Parameter(torch.zeros(_T, 2))
        self.calls = []

    def forward(self, x, t, labels=None):
        self.calls.append((x.detach().clone(), t.detach().clone()))
        return x @ self.w + self.c[t]


_m = _Rec()
_opt = torch.optim.SGD(_m.parameters(), lr=0.01)
_g = torch.Generator().manual_seed(31)
_x0 = torch.randn(64, 2, generator=torch.Generator().manual_seed(32))
for _k in range(40):
    _ = train_step(_m, _opt, _x0, _ab, _g)
assert len(_m.calls) == 40, "train_step must call the model exactly once per step"
_ts = torch.stack([_c[1] for _c in _m.calls])
assert _ts.dtype == torch.int64 and _ts.shape == (40, 64), (
    "the timesteps must be a LongTensor of shape (B,)"
)
assert _ts.min().item() >= 0 and _ts.max().item() <= _T - 1, "timesteps must lie in {0, ..., T-1}"
_counts = torch.bincount(_ts.flatten(), minlength=_T)
assert bool((_counts > 0).all()), (
    "some timesteps in {0, ..., T-1} are never drawn: check both ends of the range given to "
    "torch.randint"
)
assert _counts.min().item() > 0.6 * 320 and _counts.max().item() < 1.4 * 320, (
    "the timesteps are not uniform over {0, ..., T-1}"
)
assert all(len(torch.unique(_row)) > 1 for _row in _ts), (
    "every sample of the batch needs its own random timestep"
)

# %%
# HIDDEN
import math

import torch

_T = 8
_ab = torch.cumprod(1 - torch.linspace(0.05, 0.5, _T, dtype=torch.float64), 0)


class _Rec2(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([[0.3, -0.2], [0.1, 0.4]]))
        self.c = torch.nn.Parameter(torch.linspace(-0.5, 0.5, 2 * _T).reshape(_T, 2))
        self.calls = []

    def forward(self, x, t, labels=None):
        self.calls.append((x.detach().clone(), t.detach().clone()))
        return x @ self.w + self.c[t]


_m = _Rec2()
_opt = torch.optim.SGD(_m.parameters(), lr=0.1)
_g = torch.Generator().manual_seed(33)
_x0 = torch.randn(16, 2, generator=torch.Generator().manual_seed(34))
for _k in range(2):
    _w0 = _m.w.detach().double().clone().requires_grad_(True)
    _c0 = _m.c.detach().double().clone().requires_grad_(True)
    _n0 = len(_m.calls)
    _loss = train_step(_m, _opt, _x0, _ab, _g)
    assert len(_m.calls) == _n0 + 1, "train_step must call the model exactly once per step"
    _xt, _tt = _m.calls[-1]
    _a = _ab[_tt].reshape(-1, 1)
    _eps = (_xt.double() - _a.sqrt() * _x0.double()) / (1 - _a).sqrt()
    _ref = ((_xt.double() @ _w0 + _c0[_tt] - _eps) ** 2).mean()
    _ref.backward()
    assert isinstance(_loss, float) and abs(_loss - _ref.item()) < 1e-4 * max(1.0, _ref.item()), (
        "the returned loss does not match the DDPM loss of the x_t and t that the model received"
    )
    assert (_m.w.detach().double() - (_w0 - 0.1 * _w0.grad)).abs().max().item() < 1e-5, (
        "the parameter update is not one optimizer step on the gradient of this batch loss: clear "
        "old gradients before backward, then step"
    )
    assert (_m.c.detach().double() - (_c0 - 0.1 * _c0.grad)).abs().max().item() < 1e-5, (
        "the parameter update is not one optimizer step on the gradient of this batch loss"
    )

# %%
# HIDDEN
import torch

_T = 10
_ab = torch.cumprod(1 - torch.linspace(0.02, 0.4, _T, dtype=torch.float64), 0)


class _Rec3(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(2, 2))
        self.calls = []

    def forward(self, x, t, labels=None):
        self.calls.append((x.detach().clone(), t.detach().clone()))
        return x @ self.w


_m = _Rec3()
_opt = torch.optim.SGD(_m.parameters(), lr=1e-3)
_g = torch.Generator().manual_seed(35)
_x0 = torch.zeros(256, 2)
for _k in range(20):
    _ = train_step(_m, _opt, _x0, _ab, _g)
assert len(_m.calls) == 20, "train_step must call the model exactly once per step"
_eps = torch.cat([_xt.double() / (1 - _ab[_tt]).sqrt().reshape(-1, 1) for _xt, _tt in _m.calls])
assert abs(_eps.mean().item()) < 0.05, "the noise must have mean 0: draw it with torch.randn"
assert abs(_eps.std().item() - 1) < 0.05, (
    "the noise must be standard Gaussian (torch.randn), and x_t must contain sqrt(1 - abar_t) "
    "times it"
)
_corr = (_eps[:, 0] * _eps[:, 1]).mean().item()
assert abs(_corr) < 0.08, (
    "the noise coordinates must be independent: draw noise with the full shape of x0"
)

# %%
# HIDDEN
import torch

_T = 6
_ab = torch.cumprod(1 - torch.linspace(0.05, 0.3, _T, dtype=torch.float64), 0)
_x0 = torch.randn(32, 2, generator=torch.Generator().manual_seed(36))


class _Aff(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([[0.5, 0.1], [-0.2, 0.3]]))

    def forward(self, x, t, labels=None):
        return x @ self.w


_runs = []
for _seed, _global in [(37, 1), (37, 2), (38, 1)]:
    _mdl = _Aff()
    _opt = torch.optim.SGD(_mdl.parameters(), lr=0.05)
    _ = torch.manual_seed(_global)
    _g = torch.Generator().manual_seed(_seed)
    _runs.append([train_step(_mdl, _opt, _x0, _ab, _g) for _k in range(3)])
assert all(isinstance(_v, float) for _v in _runs[0]), "train_step must return Python floats"
assert _runs[0] == _runs[1], (
    "two runs with the same generator seed differ: draw every random number from the generator "
    "argument, not from the global random state"
)
assert _runs[0] != _runs[2], (
    "runs with different generator seeds give identical losses: use the generator for t and for "
    "the noise"
)

# %%
# HIDDEN
# Joint structure of the random draws: fresh noise for every sample, coordinate and step.
import torch

_T = 12
_ab = torch.cumprod(1 - torch.linspace(0.05, 0.4, _T, dtype=torch.float64), 0)


class _Rec4(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(2, 2, dtype=torch.float64))
        self.calls = []

    def forward(self, x, t, labels=None):
        self.calls.append((x.detach().clone(), t.detach().clone()))
        return x @ self.w


_m = _Rec4()
_opt = torch.optim.SGD(_m.parameters(), lr=1e-3)
_g = torch.Generator().manual_seed(39)
_x0 = torch.zeros(64, 2, dtype=torch.float64)
for _k in range(30):
    _ = train_step(_m, _opt, _x0, _ab, _g)
assert len(_m.calls) == 30, "train_step must call the model exactly once per step"
assert all(_xt.dtype == torch.float64 for _xt, _tt in _m.calls), (
    "float64 data must be noised with float64 noise: draw the noise in the dtype of x0"
)
_eps = torch.stack([_xt / (1 - _ab[_tt]).sqrt().reshape(-1, 1) for _xt, _tt in _m.calls])
_ts = torch.stack([_tt for _xt, _tt in _m.calls])
_flat = _eps.reshape(30 * 64, 2)
assert torch.unique((_flat * 1e6).round(), dim=0).shape[0] == _flat.shape[0], (
    "two noise vectors are identical: every sample of every step needs its own fresh noise "
    "(do not reuse or re-seed the generator, draw the full shape of x0)"
)
_z = _eps / _eps.std()
assert abs((_z[:, 1:] * _z[:, :-1]).mean().item()) < 0.1, (
    "the noise is correlated between neighbouring samples of a batch: draw independent noise "
    "of the full shape of x0 from the generator at every step"
)
assert abs((_z[1:] * _z[:-1]).mean().item()) < 0.1, (
    "the noise is correlated between successive steps: draw independent noise of the full "
    "shape of x0 from the generator at every step"
)
assert abs((_z[..., 0] * _z[..., 1]).mean().item()) < 0.1, (
    "the noise is correlated between the two coordinates: draw independent noise of the full "
    "shape of x0 from the generator at every step"
)
_tz = (_ts.double() - _ts.double().mean()) / _ts.double().std()
assert abs((_tz[1:] * _tz[:-1]).mean().item()) < 0.1 and not all(
    torch.equal(_ts[0], _r) for _r in _ts
), "the timesteps repeat from step to step: draw fresh ones from the generator at every step"
assert abs((_tz.unsqueeze(-1) * _z).mean().item()) < 0.1, (
    "the noise depends on the timestep: draw t and the noise independently"
)
_x1 = torch.randn(8, 2, generator=torch.Generator().manual_seed(40), dtype=torch.float64)
_x1_saved = _x1.clone()
_ab_saved = _ab.clone()
_ = train_step(_m, _opt, _x1, _ab, torch.Generator().manual_seed(41))
assert torch.equal(_x1, _x1_saved) and torch.equal(_ab, _ab_saved), (
    "train_step changed the batch x0 or the schedule in place: never modify its arguments"
)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 2.5 Training a denoiser
#
# We now train the small network `TimeMLP` from `ps1_support.py` (three hidden layers of
# width 128, each told the timestep through sinusoidal features) on the two moons, with the
# linear schedule, your `train_step`, Adam and a one-cycle learning-rate schedule. It takes about
# ten seconds on a laptop; nothing to write.

# %%
torch.manual_seed(0)  # the network's initial weights
T = 1000
alphas_cumprod = alphas_cumprod_from_betas(linear_betas(T))  # (T,) float64
train_data = two_moons(20000, torch.Generator().manual_seed(1))  # (20000, 2) float32

model = TimeMLP()
num_steps, batch_size = 3000, 256
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
lr_schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=num_steps)
gen = torch.Generator().manual_seed(2)
losses = []
start = time.perf_counter()
for _ in range(num_steps):
    batch = train_data[torch.randint(0, len(train_data), (batch_size,), generator=gen)]
    losses.append(train_step(model, optimizer, batch, alphas_cumprod, gen))
    lr_schedule.step()
model.eval()
print(f"{num_steps} training steps in {time.perf_counter() - start:.1f} s")

if None not in losses:
    smooth = np.convolve(losses, np.ones(50) / 50, mode="valid")
    plt.figure(figsize=(6, 3.5))
    plt.plot(losses, alpha=0.3, label="loss of each batch")
    plt.plot(np.arange(49, len(losses)), smooth, label="moving average (50 steps)")
    plt.xlabel("training step")
    plt.ylabel(r"$L_{simple}$")
    plt.title("Training the denoiser")
    plt.legend()
    plt.show()


# %% [markdown]
# # Part 3: Sampling, and seeing it happen
#
# ## 3.1 The ancestral step
#
# Sampling runs the learned reverse chain: start from pure noise and, at each timestep, draw
# $\mathbf{x}_{t-1}$ from the posterior of Question 5 with the network's guess of the noise in
# place of the true one. In code numbering, for $t = T-1, \dots, 0$,
#
# $$
# \mathbf{x}_{t-1} = \frac{1}{\sqrt{\alpha_t}}\left(\mathbf{x}_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}\,\hat{\boldsymbol{\epsilon}}\right) + \sqrt{\tilde\beta_t}\;\mathbf{z},
# \qquad \mathbf{z}\sim\mathcal{N}(\mathbf{0},\mathbf{I}),
# $$
#
# with $\hat{\boldsymbol{\epsilon}}$ the model's output at $(\mathbf{x}_t, t)$, and the posterior variance
# $\tilde\beta_t$ of Question 5 (the "fixed small" variance of Ho et al.). You only receive
# `alphas_cumprod`: recover $\alpha_t = \bar\alpha_t / \bar\alpha_{t-1}$ and $\beta_t = 1-\alpha_t$
# from it, with $\bar\alpha_{-1} := 1$. At $t = 0$ no noise may be added (Question 5(c)).
#
# Write `ddpm_step(model_output, t, x_t, alphas_cumprod, noise)`: `model_output`, `x_t` and
# `noise` have shape `(B, ...)`, `t` is a LongTensor `(B,)` whose entries may differ (some
# samples may be at $t = 0$ while others are not). Return $\mathbf{x}_{t-1}$ with the shape and
# dtype of `x_t`.

# %% [raw]
# # BEGIN QUESTION
# name: q9
# points: 12

# %% [raw]
# # BEGIN SOLUTION


# %%
def ddpm_step(model_output, t, x_t, alphas_cumprod, noise):
    """One ancestral DDPM step x_t -> x_{t-1}, each sample at its own timestep t."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q9: write ddpm_step")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    abar_t = alphas_cumprod[t]  # (B,)
    # abar_{t-1}, with abar_{-1} := 1 (never read alphas_cumprod[-1] at t = 0)
    abar_prev = torch.where(t > 0, alphas_cumprod[(t - 1).clamp(min=0)], torch.ones_like(abar_t))
    alpha_t = abar_t / abar_prev  # (B,)
    beta_t = 1 - alpha_t
    post_var = beta_t * (1 - abar_prev) / (1 - abar_t)  # (B,) tilde beta_t, exactly 0 at t = 0
    shape = (-1,) + (1,) * (x_t.dim() - 1)  # (B, 1, ..., 1)
    inv_sqrt_alpha = (1 / alpha_t.sqrt()).reshape(shape).to(x_t)
    eps_coef = (beta_t / (1 - abar_t).sqrt()).reshape(shape).to(x_t)
    mean = inv_sqrt_alpha * (x_t - eps_coef * model_output)  # (B, ...)
    return mean + post_var.sqrt().reshape(shape).to(x_t) * noise
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

_abar = torch.linspace(0.95, 0.05, 6, dtype=torch.float64)
_g = torch.Generator().manual_seed(0)
_x = torch.randn(4, 2, generator=_g, dtype=torch.float64)
_e = torch.randn(4, 2, generator=_g, dtype=torch.float64)
_t = torch.tensor([5, 0, 2, 0])
_out1 = ddpm_step(_e, _t, _x, _abar, torch.zeros(4, 2, dtype=torch.float64))
_out2 = ddpm_step(_e, _t, _x, _abar, torch.ones(4, 2, dtype=torch.float64))
assert isinstance(_out1, torch.Tensor), "ddpm_step must return a torch.Tensor"
assert _out1.shape == (4, 2), "x_{t-1} must have the shape of x_t"
assert _out1.dtype == torch.float64, "float64 inputs must give a float64 x_{t-1}"
assert bool(torch.isfinite(_out1).all()), "ddpm_step returned NaN or inf"
assert torch.equal(_out1[[1, 3]], _out2[[1, 3]]), "no noise may be added to the samples at t = 0"
assert not torch.equal(_out1[[0, 2]], _out2[[0, 2]]), "samples at t > 0 must receive noise"

# %%
# HIDDEN
import math

import torch

_ab = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
_g = torch.Generator().manual_seed(41)
_x = torch.randn(5, 2, generator=_g, dtype=torch.float64)
_e = torch.randn(5, 2, generator=_g, dtype=torch.float64)
_z = torch.randn(5, 2, generator=_g, dtype=torch.float64)
_t = torch.tensor([999, 500, 37, 1, 0])
_rows = []
for _i in range(5):
    _a = _ab[_t[_i]].item()
    _ap = _ab[_t[_i] - 1].item() if _t[_i] > 0 else 1.0
    _al = _a / _ap
    _rows.append(
        (_x[_i] - (1 - _al) / math.sqrt(1 - _a) * _e[_i]) / math.sqrt(_al)
        + math.sqrt((1 - _al) * (1 - _ap) / (1 - _a)) * _z[_i]
    )
_ref = torch.stack(_rows)
_out = ddpm_step(_e, _t, _x, _ab, _z)
assert isinstance(_out, torch.Tensor) and _out.shape == (5, 2), (
    "ddpm_step must return the shape of x_t"
)
assert _out.dtype == torch.float64, "float64 inputs must give float64 results"
_err = (_out - _ref).abs()
assert _err[4].max().item() < 1e-9, (
    "the step at t = 0 is wrong: it must return the mean without noise; use abar_{-1} := 1, never "
    "alphas_cumprod[-1]"
)
assert _err.max().item() < 1e-9, (
    "ddpm_step is wrong for timesteps 999, 500, 37, 1, 0 (linear schedule): check alpha_t = abar_t "
    "/ abar_{t-1}, the posterior variance (not beta_t), and that noise is scaled by a standard "
    "deviation"
)

# %%
# HIDDEN
import math

import torch

_fc = [math.cos((_i / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2 for _i in range(1001)]
_ab = torch.cumprod(
    1
    - torch.tensor(
        [min(1 - _fc[_i + 1] / _fc[_i], 0.999) for _i in range(1000)], dtype=torch.float64
    ),
    0,
)
_g = torch.Generator().manual_seed(42)
for _tt in ([999, 1], [0, 640]):
    _t = torch.tensor(_tt)
    _x = torch.randn(2, 2, generator=_g, dtype=torch.float64)
    _e = torch.randn(2, 2, generator=_g, dtype=torch.float64)
    _z = torch.randn(2, 2, generator=_g, dtype=torch.float64)
    _rows = []
    for _i in range(2):
        _a = _ab[_t[_i]].item()
        _ap = _ab[_t[_i] - 1].item() if _t[_i] > 0 else 1.0
        _al = _a / _ap
        _rows.append(
            (_x[_i] - (1 - _al) / math.sqrt(1 - _a) * _e[_i]) / math.sqrt(_al)
            + math.sqrt((1 - _al) * (1 - _ap) / (1 - _a)) * _z[_i]
        )
    _ref = torch.stack(_rows)
    _out = ddpm_step(_e, _t, _x, _ab, _z)
    assert isinstance(_out, torch.Tensor) and _out.shape == (2, 2), (
        "ddpm_step on two 2D points must return shape (2, 2)"
    )
    assert (_out - _ref).abs().max().item() < 1e-9 * max(1.0, _ref.abs().max().item()), (
        "ddpm_step is wrong on a batch of two 2D points (cosine schedule): with B equal to the "
        "data dimension, coefficients of shape (B,) broadcast along the feature axis; reshape them "
        "to (B, 1)"
    )

# %%
# HIDDEN
import math

import torch

_ab = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
_g = torch.Generator().manual_seed(43)
_x = torch.randn(5, 1, 3, 3, generator=_g, dtype=torch.float64)
_e = torch.randn(5, 1, 3, 3, generator=_g, dtype=torch.float64)
_z = torch.randn(5, 1, 3, 3, generator=_g, dtype=torch.float64)
_t = torch.tensor([0, 1, 250, 998, 999])
_rows = []
for _i in range(5):
    _a = _ab[_t[_i]].item()
    _ap = _ab[_t[_i] - 1].item() if _t[_i] > 0 else 1.0
    _al = _a / _ap
    _rows.append(
        (_x[_i] - (1 - _al) / math.sqrt(1 - _a) * _e[_i]) / math.sqrt(_al)
        + math.sqrt((1 - _al) * (1 - _ap) / (1 - _a)) * _z[_i]
    )
_ref = torch.stack(_rows)
_out = ddpm_step(_e, _t, _x, _ab, _z)
assert isinstance(_out, torch.Tensor) and _out.shape == (5, 1, 3, 3), (
    "ddpm_step on images (B, C, H, W) must return the shape of x_t: reshape coefficients to (B, 1, "
    "1, 1)"
)
assert (_out - _ref).abs().max().item() < 1e-9, (
    "ddpm_step is wrong on images whose samples sit at timesteps 0, 1, 250, 998, 999"
)

# %%
# HIDDEN
import math

import torch

_ab32 = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0).float()
_g = torch.Generator().manual_seed(44)
_x = torch.randn(5, 2, generator=_g)
_e = torch.randn(5, 2, generator=_g)
_z = torch.randn(5, 2, generator=_g)
_t = torch.tensor([999, 500, 37, 10, 0])
_rows = []
for _i in range(5):
    _a = _ab32[_t[_i]].item()
    _ap = _ab32[_t[_i] - 1].item() if _t[_i] > 0 else 1.0
    _al = _a / _ap
    _rows.append(
        (_x[_i].double() - (1 - _al) / math.sqrt(1 - _a) * _e[_i].double()) / math.sqrt(_al)
        + math.sqrt((1 - _al) * (1 - _ap) / (1 - _a)) * _z[_i].double()
    )
_ref = torch.stack(_rows)
_out = ddpm_step(_e, _t, _x, _ab32, _z)
assert isinstance(_out, torch.Tensor) and _out.dtype == torch.float32, (
    "float32 inputs with a float32 schedule must give float32 results"
)
assert (_out.double() - _ref).abs().max().item() < 1e-4, "ddpm_step in float32 gives wrong values"
_ab64 = _ab32.double()
_out64 = ddpm_step(_e, _t, _x, _ab64, _z)
assert isinstance(_out64, torch.Tensor) and _out64.dtype == torch.float32, (
    "float32 data with a float64 schedule must give float32 results: convert the coefficients with "
    ".to(x_t)"
)
assert (_out64.double() - _ref).abs().max().item() < 1e-4, (
    "ddpm_step with float32 data and a float64 schedule gives wrong values"
)

# %%
# HIDDEN
# Arguments stay untouched; a batch of one keeps its batch dimension, at t = 0 and at t > 0.
import math

import torch

_ab = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
_g = torch.Generator().manual_seed(45)
for _tt in (0, 321):
    _x = torch.randn(1, 1, 2, 2, generator=_g, dtype=torch.float64)
    _e = torch.randn(1, 1, 2, 2, generator=_g, dtype=torch.float64)
    _z = torch.randn(1, 1, 2, 2, generator=_g, dtype=torch.float64)
    _t = torch.tensor([_tt])
    _saved = [_e.clone(), _t.clone(), _x.clone(), _ab.clone(), _z.clone()]
    _out = ddpm_step(_e, _t, _x, _ab, _z)
    assert isinstance(_out, torch.Tensor) and _out.shape == (1, 1, 2, 2), (
        "a batch of one image (1, C, H, W) must give x_{t-1} of shape (1, C, H, W)"
    )
    assert all(
        torch.equal(_a, _b) and _a.dtype == _b.dtype
        for _a, _b in zip([_e, _t, _x, _ab, _z], _saved, strict=True)
    ), (
        "ddpm_step changed one of its arguments in place (model_output, t, x_t, the schedule or "
        "noise): compute new tensors instead of modifying them"
    )
    _a = _ab[_tt].item()
    _ap = _ab[_tt - 1].item() if _tt > 0 else 1.0
    _al = _a / _ap
    _ref = (_x - (1 - _al) / math.sqrt(1 - _a) * _e) / math.sqrt(_al) + math.sqrt(
        (1 - _al) * (1 - _ap) / (1 - _a)
    ) * _z
    assert (_out - _ref).abs().max().item() < 1e-9, (
        "ddpm_step is wrong for a batch of one image: check how t of shape (1,) is handled"
    )


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 3.2 The sampler
#
# Write `ddpm_sample(model, shape, alphas_cumprod, generator, dtype=torch.float32, return_trajectory=False)`:
#
# 1. draw $\mathbf{x}_{T-1} \sim \mathcal{N}(\mathbf{0},\mathbf{I})$ of the given `shape` and `dtype` with
#    `torch.randn(shape, generator=generator, dtype=dtype)`;
# 2. for $t = T-1, T-2, \dots, 0$, in this order: call the model once as `model(x, t_batch)`, where
#    `t_batch` is a LongTensor of shape `(B,)` filled with $t$; draw fresh noise of the shape and
#    dtype of `x` from `generator`; apply your `ddpm_step`;
# 3. return the final sample. With `return_trajectory=True`, return a pair `(x, trajectory)`
#    where `trajectory` is a tensor of shape `(T + 1, *shape)` holding $\mathbf{x}_{T-1}$ (the
#    initial noise) first, then the result of each step; its last entry is the returned sample.
#
# No gradients are needed: run the loop under `torch.no_grad()`.

# %% [raw]
# # BEGIN QUESTION
# name: q10
# points: 10

# %% [raw]
# # BEGIN SOLUTION


# %%
def ddpm_sample(
    model, shape, alphas_cumprod, generator, dtype=torch.float32, return_trajectory=False
):
    """Ancestral sampling: x_{T-1} ~ N(0, I), then ddpm_step for t = T-1, ..., 0."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q10: write ddpm_sample")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    T = alphas_cumprod.shape[0]
    with torch.no_grad():
        x = torch.randn(shape, generator=generator, dtype=dtype)  # x_{T-1}
        trajectory = [x] if return_trajectory else None
        for step in range(T - 1, -1, -1):
            t_batch = torch.full((shape[0],), step, dtype=torch.long)  # (B,)
            eps_hat = model(x, t_batch)
            z = torch.randn(x.shape, generator=generator, dtype=dtype)
            x = ddpm_step(eps_hat, t_batch, x, alphas_cumprod, z)
            if return_trajectory:
                trajectory.append(x)
    if return_trajectory:
        return x, torch.stack(trajectory)  # (T + 1, *shape)
    return x
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch


class _Zero(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x, t, labels=None):
        return torch.zeros_like(x)


_abar = torch.linspace(0.9, 0.1, 5, dtype=torch.float64)
_out = ddpm_sample(_Zero(), (7, 2), _abar, torch.Generator().manual_seed(0))
assert isinstance(_out, torch.Tensor), "ddpm_sample must return a torch.Tensor"
assert _out.shape == (7, 2) and _out.dtype == torch.float32, (
    "samples must have the requested shape and the default dtype float32"
)
assert bool(torch.isfinite(_out).all()), "ddpm_sample returned NaN or inf"
_res = ddpm_sample(_Zero(), (7, 2), _abar, torch.Generator().manual_seed(0), return_trajectory=True)
assert isinstance(_res, tuple) and len(_res) == 2, (
    "with return_trajectory=True, return a pair (x, trajectory)"
)
assert isinstance(_res[1], torch.Tensor) and _res[1].shape == (6, 7, 2), (
    "the trajectory must have shape (T + 1, *shape)"
)

# %%
# HIDDEN
import torch


class _RecM(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))
        self.calls = []

    def forward(self, x, t, labels=None):
        self.calls.append((x.clone(), t.clone()))
        return 0.3 * x


_T = 6
_ab = torch.cumprod(1 - torch.linspace(0.1, 0.4, _T, dtype=torch.float64), 0)
_m = _RecM()
_out = ddpm_sample(_m, (3, 2), _ab, torch.Generator().manual_seed(51), dtype=torch.float64)
assert isinstance(_out, torch.Tensor) and _out.shape == (3, 2), (
    "ddpm_sample must return samples of the requested shape"
)
assert _out.dtype == torch.float64, (
    "with dtype=torch.float64 the samples (and the initial noise) must be float64"
)
assert len(_m.calls) == _T, "the model must be called exactly once per timestep (T times in all)"
for _k, (_xk, _tk) in enumerate(_m.calls):
    assert _tk.dtype == torch.int64 and _tk.shape == (3,), (
        "the model must receive t as a LongTensor of shape (B,)"
    )
    assert bool((_tk == _T - 1 - _k).all()), (
        "the timesteps must run T-1, T-2, ..., 0 in this order, each for the whole batch"
    )
    assert _xk.dtype == torch.float64 and _xk.shape == (3, 2), (
        "the model must receive x of the requested shape and dtype"
    )

# %%
# HIDDEN
import torch


class _RecM2(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))
        self.xs = []

    def forward(self, x, t, labels=None):
        self.xs.append(x.clone())
        return 0.5 * x - 0.1


_T = 10
_ab = torch.cumprod(1 - torch.linspace(0.05, 0.3, _T, dtype=torch.float64), 0)
_m = _RecM2()
_pair = ddpm_sample(_m, (4, 3), _ab, torch.Generator().manual_seed(52), return_trajectory=True)
assert isinstance(_pair, tuple) and len(_pair) == 2, (
    "return_trajectory=True must give the pair (samples, trajectory)"
)
_x, _traj = _pair
assert isinstance(_traj, torch.Tensor) and _traj.shape == (_T + 1, 4, 3), (
    "the trajectory must be a tensor of shape (T + 1, *shape)"
)
assert len(_m.xs) == _T, "the model must be called once per timestep"
assert all(torch.equal(_traj[_k], _m.xs[_k]) for _k in range(_T)), (
    "trajectory[k] must be the x given to the model at the k-th step (the initial noise first)"
)
assert torch.equal(_traj[-1], _x), "the last entry of the trajectory must be the returned sample"

# %%
# HIDDEN
import torch


class _Id(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([0.2, -0.1]))
        self.first = None

    def forward(self, x, t, labels=None):
        if self.first is None:
            self.first = x.clone()
        return x * self.w


_ab = torch.cumprod(1 - torch.linspace(0.02, 0.2, 25, dtype=torch.float64), 0)
_res = []
_firsts = []
for _seed, _global in [(53, 1), (53, 2), (54, 1)]:
    _ = torch.manual_seed(_global)
    _mi = _Id()
    _res.append(ddpm_sample(_mi, (500, 2), _ab, torch.Generator().manual_seed(_seed)))
    _firsts.append(_mi.first)
assert all(isinstance(_r, torch.Tensor) for _r in _res), "ddpm_sample must return a tensor"
assert (
    _firsts[0] is not None
    and abs(_firsts[0].mean().item()) < 0.2
    and abs(_firsts[0].std().item() - 1) < 0.15
), "the initial state x_{T-1} must be standard Gaussian noise (torch.randn)"
assert torch.equal(_res[0], _res[1]), (
    "two runs with the same generator seed differ: draw the initial noise and every step noise "
    "from the generator argument"
)
assert not torch.equal(_res[0], _res[2]), (
    "runs with different generator seeds give identical samples"
)
assert _res[0].std().item() > 0.3, "the samples have almost no spread: did you add the step noise?"

# %%
# HIDDEN
import math

import torch


class _Lin(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x, t, labels=None):
        return 0.5 * x - 0.1


_T = 10
_ab = torch.cumprod(1 - torch.linspace(0.05, 0.3, _T, dtype=torch.float64), 0)
_pair = ddpm_sample(
    _Lin(),
    (2000, 2),
    _ab,
    torch.Generator().manual_seed(56),
    dtype=torch.float64,
    return_trajectory=True,
)
assert isinstance(_pair, tuple) and len(_pair) == 2, (
    "ddpm_sample must return (samples, trajectory) when asked"
)
_traj = _pair[1]
assert isinstance(_traj, torch.Tensor) and _traj.shape == (_T + 1, 2000, 2), (
    "wrong trajectory shape: expected (T + 1, *shape), the initial noise first"
)
_rs = []
for _k in range(_T):
    _t = _T - 1 - _k
    _a = _ab[_t].item()
    _ap = _ab[_t - 1].item() if _t > 0 else 1.0
    _al = _a / _ap
    _x = _traj[_k]
    _mean = (_x - (1 - _al) / math.sqrt(1 - _a) * (0.5 * _x - 0.1)) / math.sqrt(_al)
    _sd = math.sqrt((1 - _al) * (1 - _ap) / (1 - _a))
    if _t == 0:
        assert (_traj[_k + 1] - _mean).abs().max().item() < 1e-9, (
            "the last step (t = 0) must return the posterior mean without noise"
        )
    else:
        _r = (_traj[_k + 1] - _mean) / _sd
        _rs.append(_r)
        assert abs(_r.mean().item()) < 0.1 and abs(_r.std().item() - 1) < 0.1, (
            "a step of the trajectory is not the DDPM step at its timestep with fresh standard "
            "Gaussian noise: check which t each step uses"
        )
_rs = torch.cat(_rs)
assert abs((_rs[:, 0] * _rs[:, 1]).mean().item()) < 0.05, (
    "the step noise must be drawn with the full shape of x (independent coordinates)"
)

# %%
# HIDDEN
import torch

_mu = torch.tensor([1.5, -0.5], dtype=torch.float64)
_s2 = torch.tensor([0.25, 1.44], dtype=torch.float64)
_ab = torch.cumprod(1 - torch.linspace(4e-4, 0.08, 250, dtype=torch.float64), 0)


class _Exact(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x, t, labels=None):
        _a = _ab[t].reshape(-1, 1)
        return (1 - _a).sqrt() * (x - _a.sqrt() * _mu) / (_a * _s2 + 1 - _a)


_smp = ddpm_sample(_Exact(), (1000, 2), _ab, torch.Generator().manual_seed(55), dtype=torch.float64)
assert isinstance(_smp, torch.Tensor) and _smp.shape == (1000, 2), (
    "ddpm_sample must return samples of the requested shape"
)
assert bool(torch.isfinite(_smp).all()), "the samples contain NaN or inf"
_m_err = (_smp.mean(0) - _mu).abs().max().item()
_s_ratio = (_smp.std(0) / _s2.sqrt() - 1).abs().max().item()
assert _m_err < 0.2, (
    "with the exact noise predictor of Gaussian data, the sample mean is wrong: check the step "
    "formula and the order of the timesteps"
)
assert _s_ratio < 0.15, (
    "with the exact noise predictor of Gaussian data, the sample spread is wrong: check the noise "
    "scale (a standard deviation, the posterior one) and the initial noise"
)

# %%
# HIDDEN
# Joint structure of the noise: independent across samples, coordinates and steps, and of the start.
import math

import torch


class _Lin2(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x, t, labels=None):
        return 0.5 * x - 0.1


_T = 8
_ab = torch.cumprod(1 - torch.linspace(0.05, 0.3, _T, dtype=torch.float64), 0)
_pair = ddpm_sample(
    _Lin2(),
    (1000, 2),
    _ab,
    torch.Generator().manual_seed(57),
    dtype=torch.float64,
    return_trajectory=True,
)
assert isinstance(_pair, tuple) and len(_pair) == 2, (
    "ddpm_sample must return (samples, trajectory) when asked"
)
_traj = _pair[1]
assert isinstance(_traj, torch.Tensor) and _traj.shape == (_T + 1, 1000, 2), (
    "wrong trajectory shape: expected (T + 1, *shape), the initial noise first"
)
_rs = [_traj[0]]
for _k in range(_T - 1):
    _t = _T - 1 - _k
    _a = _ab[_t].item()
    _ap = _ab[_t - 1].item()
    _al = _a / _ap
    _x = _traj[_k]
    _mean = (_x - (1 - _al) / math.sqrt(1 - _a) * (0.5 * _x - 0.1)) / math.sqrt(_al)
    _rs.append((_traj[_k + 1] - _mean) / math.sqrt((1 - _al) * (1 - _ap) / (1 - _a)))
_rs = torch.stack(_rs)  # (T, 1000, 2): the initial noise, then each step's noise
_flat = _rs.reshape(-1, 2)
assert torch.unique((_flat * 1e6).round(), dim=0).shape[0] == _flat.shape[0], (
    "two noise vectors are identical: the initial state and every step need fresh noise for each "
    "sample (draw the full shape from the generator, never reuse a draw)"
)
_z = _rs / _rs.std()
assert abs((_z[:, 1:] * _z[:, :-1]).mean().item()) < 0.08, (
    "the noise is correlated between samples of the batch: draw independent noise of the full "
    "shape from the generator at every step"
)
assert abs((_z[2:] * _z[1:-1]).mean().item()) < 0.08, (
    "the noise is correlated between successive steps: draw independent noise of the full "
    "shape from the generator at every step"
)
assert abs((_z[1:] * _z[:1]).mean().item()) < 0.08, (
    "the noise is correlated with the initial noise: draw independent noise of the full "
    "shape from the generator at every step"
)
assert abs((_z[..., 0] * _z[..., 1]).mean().item()) < 0.08, (
    "the noise is correlated between the two coordinates: draw independent noise of the full "
    "shape from the generator at every step"
)

# %%
# HIDDEN
# Defaults (float32, no trajectory), no computation graph, and a batch of one.
import torch


class _Param(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor(0.2))

    def forward(self, x, t, labels=None):
        return self.w * x


_ab = torch.cumprod(1 - torch.linspace(0.05, 0.3, 6, dtype=torch.float64), 0)
_m = _Param()
_out = ddpm_sample(_m, (1, 1, 3, 3), _ab, torch.Generator().manual_seed(58))
assert isinstance(_out, torch.Tensor), (
    "by default (return_trajectory=False) ddpm_sample must return the samples alone, not a pair"
)
assert _out.shape == (1, 1, 3, 3) and _out.dtype == torch.float32, (
    "by default the samples must be float32, of the requested shape (a batch of one keeps its "
    "batch dimension)"
)
assert not _out.requires_grad and _m.w.grad is None, (
    "sampling built a computation graph through the model: run the loop under torch.no_grad()"
)
_pair = ddpm_sample(
    _m, (1, 2), _ab, torch.Generator().manual_seed(58), dtype=torch.float64, return_trajectory=True
)
assert isinstance(_pair, tuple) and len(_pair) == 2, "return_trajectory=True must give a pair"
assert _pair[1].shape == (7, 1, 2) and _pair[1].dtype == torch.float64, (
    "the trajectory of a batch of one must have shape (T + 1, 1, D) and the requested dtype"
)
assert not _pair[0].requires_grad and not _pair[1].requires_grad, (
    "the samples and the trajectory must not carry a computation graph: use torch.no_grad()"
)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 3.3 Samples against the data
#
# Now sample 1000 points from the trained model and compare them with fresh samples of the true
# distribution (nothing to write). The *sliced Wasserstein distance* (`sliced_wasserstein` in
# `ps1_support.py`) measures how far apart two point clouds are; as a yardstick, the figure
# also shows the distance between two independent samples of the true distribution (what a
# perfect model would score, up to sampling noise) and that of the initial Gaussian noise.

# %%
start = time.perf_counter()
result = ddpm_sample(
    model, (1000, 2), alphas_cumprod, torch.Generator().manual_seed(3), return_trajectory=True
)
print(f"1000 samples, {T} steps, in {time.perf_counter() - start:.1f} s")
if result is not None:
    samples, trajectory = result
    truth = two_moons(1000, torch.Generator().manual_seed(4))
    truth2 = two_moons(1000, torch.Generator().manual_seed(5))
    scores = {
        "initial noise": sliced_wasserstein(trajectory[0], truth),
        "DDPM samples": sliced_wasserstein(samples, truth),
        "true vs true": sliced_wasserstein(truth2, truth),
    }
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), gridspec_kw={"width_ratios": [1, 1, 1.2]})
    for ax, (pts, title) in zip(
        axes[:2], [(truth, "true distribution"), (samples, "DDPM samples")], strict=True
    ):
        ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.6)
        ax.set_title(f"{title} (1000 points)")
        ax.set_xlim(-3.5, 3.5)
        ax.set_ylim(-2.5, 2.5)
        ax.set_aspect("equal")
    axes[2].bar(list(scores), list(scores.values()), color=["grey", "tab:blue", "tab:green"])
    axes[2].set_yscale("log")
    axes[2].set_title("sliced Wasserstein distance to the true distribution")
    for i, v in enumerate(scores.values()):
        axes[2].text(i, v, f"{v:.3f}", ha="center", va="bottom")
    plt.tight_layout()
    plt.show()

# %% [markdown]
# ## 3.4 Watching diffusion sampling
#
# The trajectory holds all $T + 1$ states of the 1000 particles. The next cell turns it into an
# animation (an animated GIF written with Pillow by `particle_gif` in `ps1_support.py`; the
# grey points are the true distribution), and, for your PDF, a strip of snapshots.

# %%
if result is not None:
    gif = particle_gif(trajectory, reference=truth, num_frames=60)
    with open("ps1_sampling.gif", "wb") as f:
        f.write(gif)
    display(Image(data=gif))

    # The code timestep t of each state x_t shown; -1 is the final sample, after the last step.
    snap_t = [999, 800, 600, 400, 200, 100, 0, -1]
    fig, axes = plt.subplots(
        1, len(snap_t), figsize=(2.2 * len(snap_t), 2.6), sharex=True, sharey=True
    )
    for ax, step in zip(axes, snap_t, strict=True):
        pts = trajectory[T - 1 - step]  # trajectory[0] is x_{T-1}, trajectory[T] the sample
        ax.scatter(truth[:, 0], truth[:, 1], s=1, color="lightgrey")
        ax.scatter(pts[:, 0], pts[:, 1], s=1)
        ax.set_title(f"x_t, t = {step}" if step >= 0 else "final sample")
        ax.set_xlim(-3.5, 3.5)
        ax.set_ylim(-3, 3)
        ax.set_aspect("equal")
    plt.tight_layout()
    plt.show()

# %% [raw]
# # BEGIN QUESTION
# name: q11
# points: 6
# manual: true

# %% [markdown]
# **Question 11 (written, 6 points): reading the animation.**
#
# **(a)** (3 points) At roughly which timesteps does the two-moon structure become visible,
# and during which part of the trajectory do the particles barely seem to move? Explain both
# with the noise levels of the linear schedule ($\bar\alpha_t$, or the log SNR plotted in Part 1).
#
# **(b)** (3 points) Compare the samples with the true distribution in the figure of Section 3.3.
# Describe one systematic imperfection you see, and propose one concrete change (to the
# training, the network, the schedule or the sampler) that you expect to reduce it, with a
# reason. (You may try it, but keep the notebook's total running time short.)

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# **Solution.** (Answers will vary in detail; these are the points a good answer makes.)
#
# **(a)** The moons appear late: the cloud stays an isotropic blob for the first half of the sampler and the two arcs
# separate only around $t \approx 300$ to $150$, sharpening until $t = 0$. Under the linear schedule
# $\bar\alpha_t$ is tiny for large $t$ ($\bar\alpha_t < 0.01$ for $t \gtrsim 670$, log SNR below $-4.6$): there
# $\mathbf{x}_t$ is almost pure noise, the posterior mean $\mathbb{E}[\mathbf{x}_0\mid\mathbf{x}_t]$ is close to the data mean for every
# particle, and each step only shrinks the cloud slightly while adding fresh noise of nearly the same size, so the
# particles jitter but the cloud barely changes. Structure appears once the signal coefficient $\sqrt{\bar\alpha_t}$
# is comparable with the noise coefficient (log SNR near 0, $\bar\alpha_t\approx 0.5$ at $t \approx 250$ to $300$
# for the linear schedule); the last steps ($t \lesssim 50$) only remove small-scale noise.
#
# **(b)** Typical observations: a few points in the gap between the moons or around their tips (a thin bridge, mass
# between modes); moons slightly too thick (blur from residual noise / under-fitted small-$t$ denoising); ends of
# the arcs under-populated. Reasonable remedies, each with a reason: train longer or with a larger network (the
# loss curve is still falling; better $\hat{\boldsymbol{\epsilon}}$ near the data); an exponential moving average of
# the weights (lower-variance estimate); a cosine schedule (more training signal at the intermediate noise levels
# where the two moons separate); more training data per step (larger batches, less gradient noise).
#
# **Rubric (6 points):**
# - (a) 1 pt: locates the appearance of the structure (roughly the last third of the steps).
# - (a) 1 pt: identifies the early phase where particles barely move.
# - (a) 1 pt: explains it with the schedule (tiny $\bar\alpha_t$ / very negative log SNR early; structure when signal and noise are comparable).
# - (b) 1 pt: a concrete, visible imperfection described from the figure.
# - (b) 2 pts: a concrete change and a plausible reason why it helps (1 pt for the change, 1 pt for the reason).

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION
