# %% [raw]
# # ASSIGNMENT CONFIG
# name: ps3

# %% [markdown]
# # Problem set 3: controlling a pretrained diffusion model
#
# In problem sets 1 and 2 you built diffusion models and their samplers from scratch. This time you
# receive a model that is already trained, a small **class-conditional** diffusion model of
# handwritten digits (8 by 8 pixels, ten classes), and you learn to *steer* it without retraining:
#
# 1. **Classifier-free guidance**: trade diversity for fidelity with one extra term.
# 2. **Interpolation**: walk between two samples through the model's noise space.
# 3. **Visual anagrams**: one image that reads as a 6, and as a 9 upside down.
# 4. **Restoration**: fill in missing pixels and undo a downsampling with the model as a prior.
# 5. **Score distillation**: use the model as a critic to optimise an image, then a small 3D object
#    whose front reads one digit and whose side reads another.
#
# Each part has a short theory question (answered in this notebook, graded by hand) and one or more
# functions to write (graded automatically). Everything runs on a laptop CPU in about a minute.
#
# | Part | Topic | Questions | Points |
# | --- | --- | --- | --- |
# | 1 | Classifier-free guidance | Q1a (written), Q1b | 18 |
# | 2 | Interpolation | Q2a (written), Q2b | 15 |
# | 3 | Visual anagrams | Q3a (written), Q3b | 17 |
# | 4 | Restoration | Q4a, Q4b, Q4c (written), Q4d | 28 |
# | 5 | Score distillation | Q5a (written), Q5b, Q5c | 22 |
# | | | **Total** | **100** |
#
# Written questions are worth 28 points, code questions 72 points.
#
# **On your computer**, unzip `ps3-student.zip`, install `requirements.txt` in a fresh virtual
# environment and open `ps3.ipynb` in JupyterLab inside the unzipped folder (the problem-set page on
# the course site shows the commands). **On Google Colab**, open the notebook with *Open in Colab* on that
# page (or upload `ps3.ipynb` from the zip) and run the set-up cell below: it downloads the problem set's other files from the
# course site and installs its packages.
#
# **What you receive.** A folder `diffcourse/` with the model (`diffcourse.models`), its loader
# (`diffcourse.pretrained`), a digits classifier we call the *judge* (`diffcourse.judge`) and plotting
# helpers (`diffcourse.plotting`). It does not contain any of the functions you are asked to write.
#
# **Grading.** Autograded questions have *public* tests, which `grader.check("q1b")` runs, and *hidden*
# tests, which run only on Gradescope after you submit. The public tests check the basics (shapes,
# dtypes, a simple limit). **Passing them does not mean your answer is correct: the hidden tests decide
# most of the points.** They call your functions with their own inputs (other schedules, float64 and
# float32, per-sample timesteps, fake models with known answers), so test your code beyond the
# examples here. The notebook is re-run from top to bottom when it is graded: keep every cell working,
# do not add long computations, and do not rely on state from cells you deleted.
#
# Type written answers in the answer cells (Markdown with LaTeX, `$...$` and `$$...$$`).
#
# **A bug costs only its own function's points.** When the hidden tests of a question call other
# functions of yours (the restoration loop calls your replacement step, for instance), the grader
# gives them the reference implementation of those functions, so a mistake in one function is not
# charged again in every question that builds on it.
#
# **Submitting and collaboration.** The section *Submitting* at the end of the notebook says what to
# upload where, with the course's collaboration and AI-use rules.
#
# **Conventions** (the same as in the lectures and in problem sets 1 and 2). Time is discrete and
# 0-based, $t \in \{0, \dots, T-1\}$ with $T = 1000$; $\alpha_t = 1 - \beta_t$ and
# $\bar\alpha_t = \prod_{s \le t} \alpha_s$ (`alphas_cumprod[t]`). We define $\bar\alpha_{-1} := 1$:
# "timestep $-1$" is clean data. Python reads `alphas_cumprod[-1]` as $\bar\alpha_{T-1}$, the *noisiest*
# step, so never index with $t - 1$ at $t = 0$; use the helper `abar_at` below. The forward process is
# $$x_t = \sqrt{\bar\alpha_t}\, x_0 + \sqrt{1 - \bar\alpha_t}\, \varepsilon, \qquad \varepsilon \sim \mathcal N(0, I),$$
# and the model predicts the noise, $\hat\varepsilon_\theta(x_t, t, y)$. Timesteps are always a
# `LongTensor` of shape `(B,)`, one value per sample. Functions take the schedule `alphas_cumprod` and
# any random noise as arguments, and return tensors of the dtype of their input `x`.

# %%
# Initialize Otter
import otter

grader = otter.Notebook("ps3.ipynb")

# %% [markdown]
# ## Set-up: the model, the judge and a few given helpers
#
# Run the next cells once. `load_digits_model()` returns the pretrained network; call it as
# `model(x_t, t, labels)` with `x_t` of shape `(B, 1, 8, 8)` in the data scale $[-1, 1]$, `t` a
# `LongTensor (B,)` and `labels` a `LongTensor (B,)` of digits 0 to 9, or `model.null_label` (= 10) for
# "no label" (the unconditional model: it was trained with the label dropped 10% of the time).
# The schedule is `model.alphas_cumprod` (float64, cosine, $T = 1000$). The judge is a classifier of
# 8 by 8 digits (99% accurate on real digits): `judge.predict(images)` returns the digit it reads.

# %%
import io
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Image, display

from diffcourse.judge import DigitsJudge
from diffcourse.plotting import make_grid, show_images
from diffcourse.pretrained import load_digits_model

torch.manual_seed(0)
torch.set_num_threads(1)  # this small model runs fastest on one thread (and so does grading)
model = load_digits_model()
judge = DigitsJudge()
alphas_cumprod = model.alphas_cumprod  # (T,) float64
T = len(alphas_cumprod)
NULL = model.null_label
print(f"T = {T}, null label = {NULL}, parameters: {sum(p.numel() for p in model.parameters()):,}")


# %% [markdown]
# The helpers below are given (you wrote the same DDIM step in problem set 2). `ddim_step` takes one
# deterministic ($\eta = 0$) or stochastic step from `t` to an arbitrary earlier `t_prev` (`-1` is
# the final step to clean data); with `clip_x0=True` it clips the predicted $\hat x_0$ to $[-1, 1]$
# and recomputes $\hat\varepsilon$ from it, which keeps this small model stable at high guidance.
# `sample_ddim` runs the loop for any `predict(x_t, t) -> eps` function, which is how you will plug
# guidance and multi-view predictions into the same sampler. `show_images` (from `diffcourse.plotting`)
# draws a grid of digits; `show_animation` plays a list of image batches as a GIF.


# %%
def abar_at(alphas_cumprod, t):
    """abar_t for a LongTensor t (B,), with abar_{-1} := 1 (t = -1 is clean data)."""
    one = torch.ones((), dtype=alphas_cumprod.dtype, device=alphas_cumprod.device)
    return torch.where(t >= 0, alphas_cumprod[t.clamp(min=0)], one)


def ddim_step(eps, t, t_prev, x_t, alphas_cumprod, eta=0.0, noise=None, clip_x0=False):
    """One DDIM step x_t -> x_{t_prev} (Song et al. 2021) from the predicted noise eps."""
    shape = (-1,) + (1,) * (x_t.dim() - 1)  # broadcast (B,) over the other dims
    abar_t = abar_at(alphas_cumprod, t).to(x_t.dtype).view(shape)
    abar_prev = abar_at(alphas_cumprod, t_prev).to(x_t.dtype).view(shape)
    x0 = (x_t - (1 - abar_t).sqrt() * eps) / abar_t.sqrt()
    if clip_x0:
        x0 = x0.clamp(-1, 1)
        eps = (x_t - abar_t.sqrt() * x0) / (1 - abar_t).sqrt()
    sigma = eta * ((1 - abar_prev) / (1 - abar_t) * (1 - abar_t / abar_prev)).sqrt()
    x_prev = abar_prev.sqrt() * x0 + (1 - abar_prev - sigma**2).clamp(min=0).sqrt() * eps
    if eta > 0:
        x_prev = x_prev + sigma * noise
    return x_prev


def ddim_timesteps(num_steps, T=1000):
    """Leading spacing: [T - T//n, ..., T//n, 0] for n steps (e.g. 980, 960, ..., 0)."""
    return list(range(0, T, T // num_steps))[:num_steps][::-1]


def sample_ddim(
    predict,
    x_T,
    alphas_cumprod,
    num_steps=25,
    eta=0.0,
    generator=None,
    clip_x0=True,
    return_trajectory=False,
):
    """Run DDIM from x_T with predict(x_t, t) -> eps; returns x_0 (and the x_t's if asked)."""
    x, trajectory = x_T, [x_T]
    steps = ddim_timesteps(num_steps, len(alphas_cumprod))
    for i, t_now in enumerate(steps):
        t_prev = steps[i + 1] if i + 1 < len(steps) else -1
        t = torch.full((x.shape[0],), t_now, dtype=torch.long)
        with torch.no_grad():
            eps = predict(x, t)
        noise = torch.randn(x.shape, generator=generator, dtype=x.dtype) if eta > 0 else None
        x = ddim_step(eps, t, torch.full_like(t, t_prev), x, alphas_cumprod, eta, noise, clip_x0)
        trajectory.append(x)
    return (x, trajectory) if return_trajectory else x


def show_animation(frames, nrow=None, fps=8, scale=8):
    """Show a list of (N, 1, H, W) image batches in [-1, 1] as a looping GIF (made with Pillow)."""
    from PIL import Image as PILImage

    pictures = []
    for f in frames:
        grid = make_grid(f, nrow or f.shape[0])  # (rows, cols) in [0, 1]
        pixels = np.kron((grid * 255).round().astype(np.uint8), np.ones((scale, scale), np.uint8))
        pictures.append(PILImage.fromarray(pixels))
    buffer = io.BytesIO()
    pictures[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=pictures[1:],
        duration=int(1000 / fps),
        loop=0,
    )
    display(Image(data=buffer.getvalue(), format="gif"))


# %% [markdown]
# Here are some real digits from the training data, and what the model draws for each label with plain
# conditional sampling (25 DDIM steps), each read by the judge.

# %%
from sklearn.datasets import load_digits

digits = load_digits()
real = torch.tensor(digits.images[:20], dtype=torch.float32).unsqueeze(1) / 8 - 1  # (20, 1, 8, 8)
show_images(real, nrow=10, title="real digits")

gen = torch.Generator().manual_seed(0)
labels = torch.arange(10).repeat(2)  # (20,)
x_T = torch.randn(20, 1, 8, 8, generator=gen)
samples = sample_ddim(lambda x, t: model(x, t, labels), x_T, alphas_cumprod)
_ = show_images(
    samples, nrow=10, title=f"conditional samples; judge reads {judge.predict(samples).tolist()}"
)


# %% [markdown]
# ## Part 1. Classifier-free guidance
#
# A conditional model trained with label dropout predicts both the conditional noise
# $\hat\varepsilon_c = \hat\varepsilon_\theta(x_t, t, y)$ and the unconditional noise
# $\hat\varepsilon_u = \hat\varepsilon_\theta(x_t, t, \varnothing)$. Classifier-free guidance
# (Ho and Salimans, 2021) samples with
# $$\hat\varepsilon_w = \hat\varepsilon_u + w\,(\hat\varepsilon_c - \hat\varepsilon_u),$$
# where the guidance weight $w = 0$ gives the unconditional model, $w = 1$ the plain conditional model and
# $w > 1$ pushes samples towards what makes them typical of the label. Since noise prediction and
# score are related by $\nabla_{x_t} \log p_t(x_t) \approx -\hat\varepsilon(x_t, t) / \sqrt{1 - \bar\alpha_t}$,
# guidance is a statement about scores.

# %% [raw]
# # BEGIN QUESTION
# name: q1a
# manual: true
# points: 6

# %% [markdown]
# **Question 1a (written, 6 points).** (a) Show that the guided noise prediction corresponds to the score
# $$\nabla_{x_t} \log p_t(x_t) + w\, \nabla_{x_t} \log p_t(y \mid x_t),$$
# and that this is the score of the "tilted" density $\tilde p_{t}(x_t) \propto p_t(x_t \mid y)^{w}\, p_t(x_t)^{1-w}$.
# (b) Explain why sampling with these guided scores does **not**, in general, produce samples from the
# tilted clean distribution $\tilde p_0(x_0) \propto p_0(x_0 \mid y)^{w}\, p_0(x_0)^{1-w}$ when $w \neq 1$. Support your
# argument with a one-dimensional Gaussian example: $p_0(x_0) = \mathcal N(0, 1)$ and
# $p_0(x_0 \mid y) = \mathcal N(\mu, s^2)$ (you may state that this pair of distributions is not exactly
# consistent with Bayes' rule; the point is what the sampler does with the two scores).

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# **Solution.** (a) With $s_t(x) = \nabla \log p_t(x)$ and $\hat\varepsilon = -\sqrt{1-\bar\alpha_t}\, s$,
# the guided prediction is
# $\hat\varepsilon_w = -\sqrt{1-\bar\alpha_t}\,[\, s_t(x_t) + w\,(s_t(x_t \mid y) - s_t(x_t))\,]$, so the guided score is
# $$s_t(x_t) + w\,[\nabla \log p_t(x_t \mid y) - \nabla \log p_t(x_t)] = \nabla \log p_t(x_t) + w\, \nabla \log p_t(y \mid x_t),$$
# by Bayes' rule $\log p_t(x_t\mid y) = \log p_t(y \mid x_t) + \log p_t(x_t) - \log p(y)$ (the last term
# has no gradient). Equivalently it is $w\, \nabla\log p_t(x_t \mid y) + (1-w)\, \nabla \log p_t(x_t)
# = \nabla \log [p_t(x_t\mid y)^w p_t(x_t)^{1-w}]$; the normalising constant of the tilted density
# does not depend on $x_t$, so its score is exactly this.
#
# (b) A sampler that uses the scores $\nabla \log q_t$ of a family $q_t$ returns samples of $q_0$ only if
# $q_t$ is the family of marginals of **one** forward noising process started at $q_0$, that is
# $q_t = $ (scale by $\sqrt{\bar\alpha_t}$ then convolve with $\mathcal N(0, 1-\bar\alpha_t)$) of $q_0$. Noising
# is a convolution, and convolution does not commute with powers and products: the noised version of
# $p_0(\cdot\mid y)^w p_0^{1-w}$ is not $p_t(\cdot\mid y)^w p_t^{1-w}$. So the guided sampler follows
# scores of a family that no single diffusion produces, and its output is some other distribution
# (sharper than $p_0(x\mid y)$ for $w>1$, but not the tilt).
#
# Gaussian example: $p_t(x) = \mathcal N(0, 1)$ for all $t$ (VP noising preserves unit variance) and
# $p_t(x\mid y) = \mathcal N(\sqrt{\bar\alpha_t}\mu,\, v_t)$ with $v_t = \bar\alpha_t s^2 + 1 - \bar\alpha_t$.
# The tilted density at time $t$ is Gaussian with precision $\lambda_t = w / v_t + (1-w)$. The target
# tilt at $t = 0$ has precision $\lambda_0 = w/s^2 + 1 - w$ (assume it is positive), variance
# $1/\lambda_0$; noising it gives variance $\bar\alpha_t / \lambda_0 + 1 - \bar\alpha_t$, whose inverse is not
# $\lambda_t$ in general. For instance with $s^2 = 1/2$, $w = 2$ and $\bar\alpha_t = 1/2$: $\lambda_0 = 3$,
# noised target precision $1/(1/6 + 1/2) = 1.5$, but $\lambda_t = 2/(3/4) - 1 = 5/3$. The sampler's
# scores disagree with the scores of the noised target at intermediate times, so the reverse process
# does not transport $\mathcal N(0, I)$ onto the tilt. (Running the probability-flow ODE with these linear
# scores gives a Gaussian whose variance differs from $1/\lambda_0$.) In practice guidance is a useful
# heuristic for "more typical of $y$", not an exact sampler of $p(x\mid y)^w p(x)^{1-w}$.
#
# Rubric (6 points):
# - 1 pt: uses the relation between $\hat\varepsilon$ and the score, with the factor $-\sqrt{1-\bar\alpha_t}$.
# - 1 pt: derives $\nabla\log p_t(x_t) + w\nabla \log p_t(y\mid x_t)$ via Bayes' rule (the $\log p(y)$ term has no gradient).
# - 1 pt: identifies it as the score of $p_t(x\mid y)^w p_t(x)^{1-w}$ (normaliser independent of $x$).
# - 2 pts: explains that the tilted marginals are not the noising of the tilted clean density (noising is a convolution, which does not commute with products/powers), so the sampler is not a time-reversal of one diffusion.
# - 1 pt: a correct Gaussian computation showing a mismatch (e.g. the precisions at an intermediate time differ).

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q1b
# points: 12

# %% [markdown]
# **Question 1b (code, 12 points).** Write `cfg_prediction(model, x_t, t, labels, guidance_scale, null_label)`
# that returns $\hat\varepsilon_w = \hat\varepsilon_u + w\,(\hat\varepsilon_c - \hat\varepsilon_u)$ with
# $w$ = `guidance_scale`. Make **exactly one** call to `model`, on a batch of size $2B$ that holds the
# conditional inputs (with `labels`) and the unconditional ones (with `null_label` for every sample):
# one big call is much faster than two small ones on a GPU. `x_t` has shape `(B, ...)`, `t` and
# `labels` are `LongTensor (B,)`. The result has the shape and dtype of `x_t`. Hint: `torch.cat`,
# `torch.full_like`, `Tensor.chunk`.

# %% [raw]
# # BEGIN SOLUTION


# %%
def cfg_prediction(model, x_t, t, labels, guidance_scale, null_label):
    """Classifier-free guidance with one batched model call: eps_u + w (eps_c - eps_u)."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q1b: write cfg_prediction")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    x_in = torch.cat([x_t, x_t], dim=0)  # (2B, ...)
    t_in = torch.cat([t, t], dim=0)  # (2B,)
    y_in = torch.cat([labels, torch.full_like(labels, null_label)], dim=0)  # (2B,)
    eps_c, eps_u = model(x_in, t_in, y_in).chunk(2, dim=0)  # (B, ...) each
    return eps_u + guidance_scale * (eps_c - eps_u)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS


# %%
class _Fake:  # eps = a_t * x + m[y]: a known linear model
    def __init__(self):
        g = torch.Generator().manual_seed(0)
        self.a = torch.linspace(0.1, 0.9, 1000)
        self.m = torch.randn(11, 1, 8, 8, generator=g)

    def __call__(self, x, t, labels=None):
        return self.a[t].view(-1, 1, 1, 1).to(x.dtype) * x + self.m[labels].to(x.dtype)


_x = torch.randn(3, 1, 8, 8, generator=torch.Generator().manual_seed(1))
_t = torch.tensor([999, 500, 0])
_y = torch.tensor([3, 0, 9])
_out = cfg_prediction(_Fake(), _x, _t, _y, 1.0, 10)
assert isinstance(_out, torch.Tensor), "cfg_prediction should return a torch.Tensor"
assert _out.shape == _x.shape, "the guided prediction should have the shape of x_t"
assert _out.dtype == _x.dtype, "the guided prediction should have the dtype of x_t"
_ref = _Fake()(_x, _t, _y)
assert (_out - _ref).abs().max().item() < 1e-5, (
    "with guidance_scale = 1 the result should be the conditional prediction"
)

# %%
# HIDDEN
import torch


class _Rec:  # records every call; eps = a_t * pix * x + m[y]
    def __init__(self, dtype):
        g = torch.Generator().manual_seed(11)
        self.a = torch.linspace(0.05, 1.5, 1000, dtype=torch.float64)
        self.pix = 0.5 + torch.rand(1, 1, 8, 8, generator=g, dtype=torch.float64)
        self.m = torch.randn(11, 1, 8, 8, generator=g, dtype=torch.float64)
        self.calls = []
        self.dtype = dtype

    def __call__(self, x, t, labels=None):
        self.calls.append(
            (x.detach().clone(), t.clone(), None if labels is None else labels.clone())
        )
        lab = torch.full_like(t, 10) if labels is None else labels
        out = self.a[t].view(-1, 1, 1, 1) * self.pix * x.double() + self.m[lab]
        return out.to(x.dtype)


_g = torch.Generator().manual_seed(5)
_x = torch.randn(5, 1, 8, 8, generator=_g, dtype=torch.float64)
_t = torch.tensor([999, 500, 37, 1, 0])
_y = torch.tensor([3, 0, 9, 9, 4])
_w = 3.5
_m = _Rec(torch.float64)
_out = cfg_prediction(_m, _x, _t, _y, _w, 10)
assert isinstance(_out, torch.Tensor), "cfg_prediction should return a torch.Tensor"
assert _out.shape == _x.shape and _out.dtype == torch.float64, (
    "float64 in should give float64 out, shaped like x_t"
)
_a = _m.a[_t].view(-1, 1, 1, 1) * _m.pix
_ref = _m.m[torch.full_like(_y, 10)] + _a * _x + _w * (_m.m[_y] - _m.m[torch.full_like(_y, 10)])
_err = (_out - _ref).abs().max().item()
assert _err < 1e-9, (
    f"guided prediction off by {_err:.3g}: check the formula eps_u + w (eps_c - "
    "eps_u), which half of the batched output is conditional, and that each sample "
    "keeps its own t and label"
)

# %%
# HIDDEN
import torch


class _Rec:  # records every call
    def __init__(self):
        g = torch.Generator().manual_seed(12)
        self.a = torch.linspace(0.05, 1.5, 1000, dtype=torch.float64)
        self.m = torch.randn(11, 1, 8, 8, generator=g, dtype=torch.float64)
        self.calls = []

    def __call__(self, x, t, labels=None):
        self.calls.append(
            (x.detach().clone(), t.clone(), None if labels is None else labels.clone())
        )
        lab = torch.full_like(t, 10) if labels is None else labels
        return (self.a[t].view(-1, 1, 1, 1) * x.double() + self.m[lab]).to(x.dtype)


_g = torch.Generator().manual_seed(6)
_x = torch.randn(4, 1, 8, 8, generator=_g, dtype=torch.float64)
_t = torch.tensor([900, 450, 3, 0])
_y = torch.tensor([1, 7, 2, 5])
_m = _Rec()
_out = cfg_prediction(_m, _x, _t, _y, 2.0, 10)
assert len(_m.calls) == 1, (
    f"the model was called {len(_m.calls)} times: make exactly one batched call"
)
_xc, _tc, _yc = _m.calls[0]
assert _xc.shape[0] == 8, (
    "the single model call should see a batch of 2B inputs (conditional and unconditional)"
)
assert _yc is not None, "pass the labels (and the null label) to the model explicitly"
_ok = {
    (i, j)
    for i in range(8)
    for j in range(4)
    if (_xc[i] - _x[j]).abs().max().item() == 0 and _tc[i].item() == _t[j].item()
}
for _j in range(4):
    _rows = [i for i in range(8) if (i, _j) in _ok]
    _labs = sorted(_yc[i].item() for i in _rows)
    assert _labs == sorted([_y[_j].item(), 10]), (
        "each sample should appear twice in the batched call, with its own t, once "
        "with its label and once with the null label"
    )

# %%
# HIDDEN
import torch


class _Fake:
    def __init__(self):
        g = torch.Generator().manual_seed(13)
        self.a = torch.linspace(0.05, 1.5, 1000, dtype=torch.float64)
        self.m = torch.randn(6, 2, generator=g, dtype=torch.float64)  # null label 5

    def __call__(self, x, t, labels=None):
        lab = torch.full_like(t, 5) if labels is None else labels
        return (self.a[t].view(-1, 1) * x.double() + self.m[lab]).to(x.dtype)


_f = _Fake()
_g = torch.Generator().manual_seed(7)
_x = torch.randn(2, 2, generator=_g, dtype=torch.float32)
_t = torch.tensor([999, 0])
_y = torch.tensor([4, 1])
for _w in [0.0, 1.0, 7.5]:
    _out = cfg_prediction(_f, _x, _t, _y, _w, 5)
    assert _out.dtype == torch.float32, "float32 in should give float32 out"
    _u = _f.a[_t].view(-1, 1) * _x.double() + _f.m[torch.full_like(_y, 5)]
    _c = _f.a[_t].view(-1, 1) * _x.double() + _f.m[_y]
    _ref = _u + _w * (_c - _u)
    _err = ((_out.double() - _ref).abs().max() / _ref.abs().max()).item()
    assert _err < 1e-5, (
        f"wrong guided prediction for 2D data at w = {_w} (null label 5 here): check the "
        "guidance formula, use the null_label argument, and make it work for any shape of x_t"
    )

# %%
# HIDDEN
# Quality check on the pretrained model, sized by the grading profile: GRADING_PROFILE is
# cpu on Gradescope (a small batch: judge accuracy only) and scale on a GPU grader (a large
# batch: the spread of the samples within a digit must also match the reference's).
import os

import torch

from diffcourse.judge import DigitsJudge
from diffcourse.pretrained import load_digits_model

# the grading runner defines GRADING_PROFILE for the tests; elsewhere the environment gives it
_profile = {
    "cpu": {"batch": 32, "min_accuracy": 0.8},
    "scale": {"batch": 2048, "min_accuracy": 0.95, "spread": [0.293, 0.305]},
}[globals().get("GRADING_PROFILE") or os.environ.get("GRADING_PROFILE", "cpu")]
_n = _profile["batch"]
_dev = "cuda" if torch.cuda.is_available() else "cpu"  # a GPU grader runs it at scale
_model = load_digits_model(device=_dev)
_abar = _model.alphas_cumprod
_y = (torch.arange(_n) % 10).to(_dev)
_x = torch.randn(_n, 1, 8, 8, generator=torch.Generator().manual_seed(2024)).to(_dev)
_steps = list(range(0, 1000, 50))[::-1]
with torch.no_grad():
    for _i, _s in enumerate(_steps):
        _sp = _steps[_i + 1] if _i + 1 < len(_steps) else -1
        _tt = torch.full((_n,), _s, dtype=torch.long, device=_dev)
        _eps = cfg_prediction(_model, _x, _tt, _y, 3.0, _model.null_label).double()
        _a = _abar[_s].item()
        _ap = _abar[_sp].item() if _sp >= 0 else 1.0
        _x0 = ((_x.double() - (1 - _a) ** 0.5 * _eps) / _a**0.5).clamp(-1, 1)
        _eps = (_x.double() - _a**0.5 * _x0) / (1 - _a) ** 0.5
        _x = (_ap**0.5 * _x0 + (1 - _ap) ** 0.5 * _eps).float()
_acc = (DigitsJudge().predict(_x) == _y.cpu()).double().mean().item()
_spread = torch.stack([_x[_y == _k].std(0).mean() for _k in range(10)]).mean().item()
assert _acc >= _profile["min_accuracy"], (
    "guided samples of the pretrained model (w = 3, 20 DDIM steps) are read as their "
    f"label only {_acc:.0%} of the time: check the sign of the guidance term and which"
    " output is conditional"
)
_low, _high = _profile.get("spread", (0.0, float("inf")))
assert _low <= _spread <= _high, (
    f"the guided samples of one digit vary by {_spread:.3f} (pixel standard deviation), "
    f"outside the {_low:.3f} to {_high:.3f} of correct guidance at w = 3: check that the "
    "guidance weight is applied once, as given, to the difference of the two predictions"
)

# %%
# HIDDEN
# Arguments stay untouched; a batch of one keeps its batch dimension; labels stay integers.
import torch


class _Rec1:
    def __init__(self):
        g = torch.Generator().manual_seed(14)
        self.a = torch.linspace(0.05, 1.5, 1000, dtype=torch.float64)
        self.m = torch.randn(11, 1, 8, 8, generator=g, dtype=torch.float64)
        self.calls = []

    def __call__(self, x, t, labels=None):
        self.calls.append((t.dtype, None if labels is None else labels.dtype))
        lab = torch.full_like(t, 10) if labels is None else labels
        return (self.a[t].view(-1, 1, 1, 1) * x.double() + self.m[lab]).to(x.dtype)


_m = _Rec1()
_x = torch.randn(1, 1, 8, 8, generator=torch.Generator().manual_seed(15))
_t = torch.tensor([420])
_y = torch.tensor([7])
_saved = [_x.clone(), _t.clone(), _y.clone()]
_out = cfg_prediction(_m, _x, _t, _y, 2.5, 10)
assert isinstance(_out, torch.Tensor) and _out.shape == (1, 1, 8, 8), (
    "a batch of one image (1, C, H, W) should give a prediction of shape (1, C, H, W)"
)
assert all(torch.equal(_a, _b) for _a, _b in zip([_x, _t, _y], _saved, strict=True)), (
    "cfg_prediction changed x_t, t or labels in place: build new tensors for the batched call"
)
assert _m.calls == [(torch.int64, torch.int64)], (
    "the single model call should receive t and the labels (with the null label) as LongTensors"
)
_u = _m.a[420] * _x.double() + _m.m[10]
_ref = _u + 2.5 * (_m.m[7] - _m.m[10])
assert (_out.double() - _ref).abs().max().item() < 1e-5, (
    "wrong guided prediction for a batch of one"
)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **Guidance against diversity.** The next cell draws the same starting noise for every digit at several
# guidance weights. Look at how the samples change as $w$ grows: they become more stereotyped (thicker,
# more "typical") and less varied, and the judge reads them more confidently.

# %%
weights = [0.0, 1.0, 3.0, 6.0]
gen = torch.Generator().manual_seed(1)
labels = torch.arange(10).repeat(3)  # (30,): three samples of each digit
x_T = torch.randn(30, 1, 8, 8, generator=gen)
accuracy = []
for w in weights:
    guided = lambda x, t, w=w: cfg_prediction(model, x, t, labels, w, NULL)
    samples = sample_ddim(guided, x_T, alphas_cumprod, num_steps=20)
    accuracy.append((judge.predict(samples) == labels).float().mean().item())
    show_images(
        samples, nrow=10, title=f"w = {w}: one column per digit, judge accuracy {accuracy[-1]:.0%}"
    )

plt.figure(figsize=(4, 2.5))
plt.plot(weights, accuracy, "o-")
plt.xlabel("guidance weight w")
plt.ylabel("judge accuracy")
plt.ylim(0, 1.05)
plt.title("fidelity against guidance")
plt.show()


# %% [markdown]
# ## Part 2. Interpolating between samples
#
# With a deterministic sampler (DDIM with $\eta = 0$) every starting noise $x_T$ maps to one image, so
# a path between two noises $z_0$ and $z_1$ gives a path between two images. The obvious path, linear
# interpolation $(1-\alpha) z_0 + \alpha z_1$, is not the right one.

# %% [raw]
# # BEGIN QUESTION
# name: q2a
# manual: true
# points: 5

# %% [markdown]
# **Question 2a (written, 5 points).** Let $z_0, z_1 \sim \mathcal N(0, I_d)$ be independent, with $d$ large
# ($d = 64$ here, $d = 4 \cdot 64 \cdot 64$ for Stable Diffusion's latents). (a) What are, approximately,
# $\lVert z_0\rVert$, $\lVert z_1 \rVert$ and the angle between $z_0$ and $z_1$? (b) What is the
# distribution of $(1-\alpha) z_0 + \alpha z_1$, and its norm at $\alpha = 1/2$? Why does the sampler turn
# it into a washed-out (low-contrast, blurry) image? (c) Spherical interpolation is
# $$\mathrm{slerp}(z_0, z_1; \alpha) = \frac{\sin((1-\alpha)\theta)}{\sin\theta} z_0 + \frac{\sin(\alpha\theta)}{\sin\theta} z_1,
# \qquad \cos\theta = \frac{\langle z_0, z_1\rangle}{\lVert z_0\rVert \lVert z_1\rVert}.$$
# Explain why its intermediate points look like typical noise to the model.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# **Solution.** (a) $\lVert z\rVert^2 = \sum_i z_i^2$ has mean $d$ and standard deviation $\sqrt{2d}$, so
# $\lVert z \rVert = \sqrt d\,(1 + O(1/\sqrt d))$: Gaussian noise concentrates on a thin shell of radius
# $\sqrt d$. $\langle z_0, z_1 \rangle$ has mean 0 and standard deviation $\sqrt d$, so
# $\cos\theta = O(1/\sqrt d)$: two independent noises are almost orthogonal, $\theta \approx \pi/2$.
#
# (b) $(1-\alpha)z_0 + \alpha z_1 \sim \mathcal N(0, ((1-\alpha)^2 + \alpha^2) I)$, with variance $1/2$ at
# $\alpha = 1/2$: its norm is about $\sqrt{d/2} \approx 0.71\sqrt d$, far inside the shell where all
# $\mathcal N(0, I)$ samples live (many standard deviations away in high dimension). The model was
# only ever shown $x_T$ on that shell; the sampler treats the missing energy as if part of the image
# were already "decided" at zero, i.e. it denoises an input with too little noise variance, and its
# predicted $\hat x_0$ is pulled toward the mean image: the result is low-contrast, averaged, washed out.
# (The effect grows with $d$; on our 64-pixel digits it is mild.)
#
# (c) With $\theta$ the angle between two vectors of (nearly) equal norm $r$, slerp moves along the great
# circle between them at constant norm $r$: for $\theta = \pi/2$ it is
# $\cos(\alpha\pi/2) z_0 + \sin(\alpha\pi/2) z_1$, whose distribution is $\mathcal N(0, (\cos^2 + \sin^2) I)
# = \mathcal N(0, I)$ for every $\alpha$. Each intermediate point is itself a typical Gaussian noise, so
# the model produces a sharp, typical image all along the path.
#
# Rubric (5 points):
# - 1 pt: norms $\approx \sqrt d$ (concentration), angle $\approx 90°$ (inner product $O(\sqrt d)$ against norms $d$).
# - 1 pt: lerp is Gaussian with variance $(1-\alpha)^2 + \alpha^2$; norm $\approx \sqrt{d/2}$ at the midpoint.
# - 1 pt: explains the washed-out result: the input is atypical (too little variance) for the sampler, which outputs an over-smoothed, average-like image.
# - 2 pts: slerp keeps the norm/variance ($\cos^2 + \sin^2 = 1$ for orthogonal endpoints), so intermediate points are distributed as $\mathcal N(0, I)$.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2b
# points: 10

# %% [markdown]
# **Question 2b (code, 10 points).** Write `slerp(z0, z1, alpha)` for batches: `z0` and `z1` have shape
# `(B, ...)` and each row (sample) gets **its own** angle $\theta$, computed over all its non-batch
# dimensions; `alpha` is a Python float in $[0, 1]$. Return a tensor of the shape and dtype of `z0`.
# Make it robust: rounding can push $\cos\theta$ slightly outside $[-1, 1]$ (clamp it), and for rows
# whose angle is tiny ($\sin\theta$ close to 0, e.g. `z1` equal to `z0`), fall back to linear
# interpolation for that row. Opposite rows ($\theta = \pi$) have no unique great circle; any finite
# answer is accepted there, but no `nan` or `inf`.

# %% [raw]
# # BEGIN SOLUTION


# %%
def slerp(z0, z1, alpha):
    """Spherical interpolation between z0 and z1 (B, ...), one angle per row."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q2b: write slerp")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    a = z0.flatten(1)  # (B, D)
    b = z1.flatten(1)  # (B, D)
    cos = (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))  # (B,)
    theta = torch.acos(cos.clamp(-1.0, 1.0))  # (B,)
    sin = torch.sin(theta)
    small = sin.abs() < 1e-6  # nearly parallel (or opposite) rows
    safe = torch.where(small, torch.ones_like(sin), sin)
    c0 = torch.where(small, torch.full_like(sin, 1 - alpha), torch.sin((1 - alpha) * theta) / safe)
    c1 = torch.where(small, torch.full_like(sin, alpha), torch.sin(alpha * theta) / safe)
    shape = (-1,) + (1,) * (z0.dim() - 1)
    return c0.view(shape) * z0 + c1.view(shape) * z1
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

_g = torch.Generator().manual_seed(0)
_z0 = torch.randn(3, 1, 8, 8, generator=_g)
_z1 = torch.randn(3, 1, 8, 8, generator=_g)
_out = slerp(_z0, _z1, 0.0)
assert isinstance(_out, torch.Tensor), "slerp should return a torch.Tensor"
assert _out.shape == _z0.shape and _out.dtype == _z0.dtype, (
    "slerp should return the shape and dtype of z0"
)
assert (_out - _z0).abs().max().item() < 1e-5, "slerp at alpha = 0 should return z0"
assert (slerp(_z0, _z1, 1.0) - _z1).abs().max().item() < 1e-5, "slerp at alpha = 1 should return z1"

# %%
# HIDDEN
import math

import torch

# 2D rows (B = D = 2) with very different angles: one angle per row, not per batch.
_z0 = torch.tensor([[1.0, 0.0], [2.0, 1.0]], dtype=torch.float64)
_z1 = torch.tensor([[0.0, 3.0], [-1.0, 1.5]], dtype=torch.float64)
for _alpha in [0.25, 0.5, 0.9]:
    _out = slerp(_z0, _z1, _alpha)
    assert _out.shape == (2, 2) and _out.dtype == torch.float64, (
        "float64 (2, 2) in should give float64 (2, 2) out"
    )
    for _i in range(2):
        _a, _b = _z0[_i], _z1[_i]
        _th = math.acos((_a @ _b).item() / (_a.norm() * _b.norm()).item())
        _ref = (
            math.sin((1 - _alpha) * _th) / math.sin(_th) * _a
            + math.sin(_alpha * _th) / math.sin(_th) * _b
        )
        _err = (_out[_i] - _ref).abs().max().item()
        assert _err < 1e-9, (
            f"row {_i} at alpha = {_alpha} is off by {_err:.3g}: compute the angle of "
            "each row separately and broadcast the coefficients over the features, "
            "not over the batch"
        )

# %%
# HIDDEN
import math

import torch

_g = torch.Generator().manual_seed(21)
_z0 = torch.randn(6, 3, 4, 4, generator=_g, dtype=torch.float64) * torch.tensor(
    [1.0, 2.0, 0.5, 1.0, 3.0, 1.0], dtype=torch.float64
).view(-1, 1, 1, 1)
_z1 = torch.randn(6, 3, 4, 4, generator=_g, dtype=torch.float64)
_alpha = 0.3
_out = slerp(_z0, _z1, _alpha)
assert _out.shape == _z0.shape and _out.dtype == torch.float64, (
    "float64 in should give float64 out, shaped like z0"
)
for _i in range(6):
    _a, _b = _z0[_i].flatten(), _z1[_i].flatten()
    _th = math.acos((_a @ _b).item() / (_a.norm() * _b.norm()).item())
    _ref = (math.sin((1 - _alpha) * _th) * _a + math.sin(_alpha * _th) * _b) / math.sin(_th)
    _err = (_out[_i].flatten() - _ref).abs().max().item()
    assert _err < 1e-9, (
        f"sample {_i} is off by {_err:.3g}: the angle must use all non-batch "
        "dimensions (channels and pixels) of each sample, and the formula the sines "
        "of (1 - alpha) theta and alpha theta"
    )

# %%
# HIDDEN
import torch

# Unit vectors in high dimension stay on the sphere; linear interpolation would not.
_g = torch.Generator().manual_seed(22)
_z0 = torch.randn(4, 1000, generator=_g, dtype=torch.float64)
_z1 = torch.randn(4, 1000, generator=_g, dtype=torch.float64)
_z0 = _z0 / _z0.norm(dim=1, keepdim=True)
_z1 = _z1 / _z1.norm(dim=1, keepdim=True)
for _alpha in [0.1, 0.5, 0.77]:
    _n = slerp(_z0, _z1, _alpha).norm(dim=1)
    _err = (_n - 1).abs().max().item()
    assert _err < 1e-9, (
        "slerp of unit vectors should stay on the unit sphere, but a norm is off by "
        f"{_err:.3g} at alpha = {_alpha}: this is linear interpolation, or the "
        "coefficients are wrong"
    )

# %%
# HIDDEN
import torch

# Identical and opposite rows next to ordinary ones: no nan, identical rows stay put.
_g = torch.Generator().manual_seed(23)
_base = torch.randn(6, 1, 8, 8, generator=_g, dtype=torch.float64) * 3
_other = torch.randn(6, 1, 8, 8, generator=_g, dtype=torch.float64)
_z0 = _base.clone()
_z1 = torch.stack([_base[0], _base[1], -_base[2], -_base[3], _other[4], _other[5]])
for _dtype, _tol in [(torch.float64, 1e-9), (torch.float32, 1e-4)]:
    for _alpha in [0.0, 0.4, 1.0]:
        _out = slerp(_z0.to(_dtype), _z1.to(_dtype), _alpha)
        assert _out.dtype == _dtype, "slerp should keep the dtype of its inputs"
        assert torch.isfinite(_out).all().item(), (
            "slerp returned nan or inf for identical or opposite rows: clamp the "
            "cosine and fall back to linear interpolation for tiny angles"
        )
        _err = (_out[:2].double() - _base[:2]).abs().max().item() / 3
        assert _err < _tol, "slerp of a row with itself should return that row for every alpha"
        _a, _b = _z0[4:].flatten(1), _z1[4:].flatten(1)
        _th = torch.acos((_a * _b).sum(1) / (_a.norm(dim=1) * _b.norm(dim=1)))
        _ref = (
            torch.sin((1 - _alpha) * _th)[:, None] * _a + torch.sin(_alpha * _th)[:, None] * _b
        ) / torch.sin(_th)[:, None]
        _err = ((_out[4:].double().flatten(1) - _ref).abs().max() / _ref.abs().max()).item()
        assert _err < _tol, (
            "ordinary rows are wrong when the batch also holds identical or opposite "
            "rows: handle each row separately"
        )

# %%
# HIDDEN
# Fallback rows of different norms, moderate angles that must not fall back, untouched arguments.
import math

import torch

_u = torch.tensor([0.6, -0.8, 0.0], dtype=torch.float64)
_v = torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)
_rows0, _rows1, _angles = [], [], []
for _th, _n0, _n1 in [(0.2, 1.0, 3.0), (0.5, 2.0, 0.5), (0.0, 1.5, 4.0), (0.0, 2.0, 0.25)]:
    _rows0.append(_n0 * _u)
    _rows1.append(_n1 * (math.cos(_th) * _u + math.sin(_th) * _v))
    _angles.append(_th)
_z0 = torch.stack(_rows0)
_z1 = torch.stack(_rows1)
_saved = [_z0.clone(), _z1.clone()]
for _alpha in [0.3, 0.8]:
    _out = slerp(_z0, _z1, _alpha)
    assert torch.equal(_z0, _saved[0]) and torch.equal(_z1, _saved[1]), (
        "slerp changed z0 or z1 in place (flatten and reshape return views of the input): "
        "compute new tensors instead"
    )
    assert _out.shape == (4, 3) and torch.isfinite(_out).all().item(), (
        "slerp should return finite rows of the shape of z0"
    )
    for _i, _th in enumerate(_angles):
        if _th > 0:
            _c0 = math.sin((1 - _alpha) * _th) / math.sin(_th)
            _c1 = math.sin(_alpha * _th) / math.sin(_th)
        else:
            _c0, _c1 = 1 - _alpha, _alpha
        _ref = _c0 * _z0[_i] + _c1 * _z1[_i]
        _err = ((_out[_i] - _ref).abs().max() / _ref.abs().max()).item()
        assert _err < 1e-6, (
            "a row is wrong: rows at a moderate angle (0.2 or 0.5 radian) need the slerp "
            "formula (keep the linear fallback for tiny angles only), and parallel rows of "
            "different norms need the linear interpolation (1 - alpha) z0 + alpha z1"
        )
_one = slerp(_z0[:1], _z1[:1], 0.5)
assert _one.shape == (1, 3), "a batch of one row (1, D) should give a result of shape (1, D)"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **Norms along the path.** For two independent noises of dimension 64 (our digits), compare the norm of
# linear and spherical interpolation, in units of $\sqrt d$:

# %%
gen = torch.Generator().manual_seed(3)
z0, z1 = torch.randn(2, 256, 1, 8, 8, generator=gen)  # 256 pairs of noises
alphas = torch.linspace(0, 1, 21)
lerp_norm = [((1 - a) * z0 + a * z1).flatten(1).norm(dim=1).mean() / 8 for a in alphas]
slerp_norm = [slerp(z0, z1, a.item()).flatten(1).norm(dim=1).mean() / 8 for a in alphas]
plt.figure(figsize=(4, 2.5))
plt.plot(alphas, lerp_norm, label="lerp")
plt.plot(alphas, slerp_norm, label="slerp")
plt.xlabel("alpha")
plt.ylabel("norm / sqrt(d)")
plt.legend()
plt.show()

# %% [markdown]
# **Interpolation animation.** Four pairs of starting noises, for the digits 2, 3, 5 and 8 (guidance
# $w = 2$), and the images along the slerp path between each pair: each sample morphs smoothly into
# another version of the same digit, and back.

# %%
gen = torch.Generator().manual_seed(7)
z0, z1 = torch.randn(2, 4, 1, 8, 8, generator=gen)  # four pairs of noises
labels = torch.tensor([2, 3, 5, 8])
alphas = torch.linspace(0, 1, 12)
path = torch.cat([slerp(z0, z1, a.item()) for a in alphas])  # (12 * 4, 1, 8, 8), one batch
path_labels = labels.repeat(len(alphas))
guided = lambda x, t: cfg_prediction(model, x, t, path_labels, 2.0, NULL)
frames = sample_ddim(guided, path, alphas_cumprod, num_steps=20).split(4)  # 12 frames of 4
show_images(
    torch.stack(frames, 1).flatten(0, 1), nrow=12, title="slerp paths (rows) for 2, 3, 5, 8"
)
show_animation(list(frames) + list(frames[::-1]), fps=10)


# %% [markdown]
# ## Part 3. Visual anagrams
#
# A visual anagram (Geng, Park and Owens, 2024) is an image that reads as one thing, and as another
# after a transformation such as turning it upside down. The trick is to denoise several *views* of the
# same $x_t$ at once. With views $V_1, \dots, V_K$ (here: rotations and flips of the image) and one label
# $y_k$ per view, each step uses the average
# $$\hat\varepsilon(x_t, t) = \frac1K \sum_{k=1}^{K} V_k^{-1}\, \hat\varepsilon_\theta(V_k x_t,\, t,\, y_k):$$
# the model sees the $k$-th view of the noisy image, predicts its noise *in that view*, and the
# prediction is mapped back to the original frame before averaging. A view is given here as an object
# with two methods, `view.apply(x)` and `view.inverse(x)`, acting on `(B, C, H, W)` tensors.


# %%
class Identity:
    def apply(self, x):
        return x

    def inverse(self, x):
        return x


class Rot90:
    """Quarter turn counter-clockwise; its inverse turns clockwise."""

    def apply(self, x):
        return torch.rot90(x, 1, dims=(-2, -1))

    def inverse(self, x):
        return torch.rot90(x, -1, dims=(-2, -1))


class Rot180:
    def apply(self, x):
        return torch.rot90(x, 2, dims=(-2, -1))

    def inverse(self, x):
        return torch.rot90(x, -2, dims=(-2, -1))


class HFlip:
    def apply(self, x):
        return torch.flip(x, dims=(-1,))

    def inverse(self, x):
        return torch.flip(x, dims=(-1,))


class VFlip:
    def apply(self, x):
        return torch.flip(x, dims=(-2,))

    def inverse(self, x):
        return torch.flip(x, dims=(-2,))


# %% [raw]
# # BEGIN QUESTION
# name: q3a
# manual: true
# points: 5

# %% [markdown]
# **Question 3a (written, 5 points).** Each view above permutes pixels, so it is an orthogonal linear
# map: $V^\top V = I$. Explain why a view used for an anagram must be orthogonal. Consider what the model
# receives, $V x_t$ with $x_t = \sqrt{\bar\alpha_t}\, x_0 + \sqrt{1-\bar\alpha_t}\, \varepsilon$, and what
# happens to the noise if $V$ is not orthogonal; give one concrete non-orthogonal example (such as a
# blur, a rescaling of intensities, or a rotation by 45 degrees with pixel interpolation) and what goes
# wrong with it.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# **Solution.** The model was trained on inputs $\sqrt{\bar\alpha_t}\, x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon$
# with $\varepsilon \sim \mathcal N(0, I)$, and predicts that $\varepsilon$. For a linear view,
# $$V x_t = \sqrt{\bar\alpha_t}\, (V x_0) + \sqrt{1-\bar\alpha_t}\, (V\varepsilon), \qquad V\varepsilon \sim \mathcal N(0, V V^\top).$$
# So $V x_t$ is a correctly noised version of the image $V x_0$ at the same timestep exactly when
# $V V^\top = I$, i.e. when $V$ is orthogonal: then the model is in distribution for every view, and
# its prediction of $V\varepsilon$, mapped back with $V^{-1} = V^\top$, is an estimate of the same
# $\varepsilon$ in the original frame, so the $K$ estimates can be averaged and the sampler's noise
# bookkeeping (variance $1 - \bar\alpha_t$, i.i.d. pixels) stays valid for the shared $x_t$.
#
# If $V$ is not orthogonal, the noise the model sees has covariance $(1-\bar\alpha_t) V V^\top$: the
# wrong level and/or correlated pixels. Examples: a blur averages neighbouring pixels, so the noise
# variance shrinks and becomes spatially correlated; the model reads it as a less noisy image (a
# different $t$) and its prediction is off; mapping back with $V^{-1}$ (a sharpening, badly conditioned)
# amplifies the error. Scaling intensities by 2 doubles the noise standard deviation. A 45-degree
# rotation with bilinear interpolation averages pixels, like a blur, and is not invertible on the
# pixel grid (corners are lost). In each case the averaged prediction is no longer a valid noise
# estimate, and samples become blurry, noisy or saturated.
#
# Rubric (5 points):
# - 2 pts: $V\varepsilon \sim \mathcal N(0, VV^\top)$, which is the standard normal the model expects iff $V$ is orthogonal (so $Vx_t$ is a correctly noised $Vx_0$ at the same $t$).
# - 1 pt: the mapped-back predictions $V^{-1}\hat\varepsilon$ estimate the same noise in the original frame, so averaging is meaningful.
# - 2 pts: a concrete non-orthogonal example with the correct consequence (wrong noise level or correlated noise, model out of distribution, error amplified by $V^{-1}$).

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3b
# points: 12

# %% [markdown]
# **Question 3b (code, 12 points).** Write `multiview_prediction(model, x_t, t, views, labels, guidance_scale, null_label)`.
# `views` is a list of $K$ view objects and `labels` a list of $K$ label tensors (`LongTensor (B,)`,
# one per view). Return the average over views of `view.inverse` applied to the classifier-free-guided
# prediction (weight `guidance_scale`) for `view.apply(x_t)` with that view's labels. You may call your
# `cfg_prediction`. The result has the shape and dtype of `x_t`. Careful: `apply` and `inverse` are
# not interchangeable (a quarter turn is not its own inverse).

# %% [raw]
# # BEGIN SOLUTION


# %%
def multiview_prediction(model, x_t, t, views, labels, guidance_scale, null_label):
    """Average over views of V^{-1} eps_w(V x_t, t, y_k) (visual anagrams)."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q3b: write multiview_prediction")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    total = torch.zeros_like(x_t)
    for view, y in zip(views, labels, strict=True):
        eps_view = cfg_prediction(model, view.apply(x_t), t, y, guidance_scale, null_label)
        total = total + view.inverse(eps_view)  # back to the original frame
    return total / len(views)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch


class _Fake:  # eps = a_t * x + m[y]
    def __init__(self):
        g = torch.Generator().manual_seed(0)
        self.a = torch.linspace(0.1, 0.9, 1000)
        self.m = torch.randn(11, 1, 8, 8, generator=g)

    def __call__(self, x, t, labels=None):
        return self.a[t].view(-1, 1, 1, 1).to(x.dtype) * x + self.m[labels].to(x.dtype)


class _Id:
    def apply(self, x):
        return x

    def inverse(self, x):
        return x


_x = torch.randn(2, 1, 8, 8, generator=torch.Generator().manual_seed(1))
_t = torch.tensor([700, 3])
_y = torch.tensor([6, 9])
_out = multiview_prediction(_Fake(), _x, _t, [_Id()], [_y], 1.0, 10)
assert isinstance(_out, torch.Tensor), "multiview_prediction should return a torch.Tensor"
assert _out.shape == _x.shape and _out.dtype == _x.dtype, (
    "the result should have the shape and dtype of x_t"
)
assert (_out - _Fake()(_x, _t, _y)).abs().max().item() < 1e-5, (
    "with one identity view and guidance_scale = 1 the result should be the conditional prediction"
)

# %%
# HIDDEN
import torch


class _Fake:  # eps = a_t * pix * x + m[y]; pix makes the model not rotation-equivariant
    def __init__(self):
        g = torch.Generator().manual_seed(31)
        self.a = torch.linspace(0.05, 1.5, 1000, dtype=torch.float64)
        self.pix = 0.2 + torch.rand(1, 1, 8, 8, generator=g, dtype=torch.float64)
        self.m = torch.randn(11, 1, 8, 8, generator=g, dtype=torch.float64)

    def __call__(self, x, t, labels=None):
        lab = torch.full_like(t, 10) if labels is None else labels
        return (self.a[t].view(-1, 1, 1, 1) * self.pix * x.double() + self.m[lab]).to(x.dtype)


class _R90:
    def apply(self, x):
        return torch.rot90(x, 1, dims=(-2, -1))

    def inverse(self, x):
        return torch.rot90(x, -1, dims=(-2, -1))


_f = _Fake()
_g = torch.Generator().manual_seed(32)
_x = torch.randn(5, 1, 8, 8, generator=_g, dtype=torch.float64)
_t = torch.tensor([999, 500, 37, 1, 0])
_y = torch.tensor([1, 6, 0, 3, 9])
_w = 2.5
_out = multiview_prediction(_f, _x, _t, [_R90()], [_y], _w, 10)
assert _out.shape == _x.shape and _out.dtype == torch.float64, (
    "float64 in should give float64 out, shaped like x_t"
)
_vx = torch.rot90(_x, 1, dims=(-2, -1))
_at = _f.a[_t].view(-1, 1, 1, 1)
_u = _at * _f.pix * _vx + _f.m[torch.full_like(_y, 10)]
_c = _at * _f.pix * _vx + _f.m[_y]
_ref = torch.rot90(_u + _w * (_c - _u), -1, dims=(-2, -1))
_err = (_out - _ref).abs().max().item()
assert _err < 1e-9, (
    f"one quarter-turn view is off by {_err:.3g}: the model should see "
    "view.apply(x_t), and its prediction should be mapped back with view.inverse (not"
    " apply again)"
)

# %%
# HIDDEN
import torch


class _Fake:
    def __init__(self):
        g = torch.Generator().manual_seed(33)
        self.a = torch.linspace(0.05, 1.5, 1000, dtype=torch.float64)
        self.pix = 0.2 + torch.rand(1, 1, 8, 8, generator=g, dtype=torch.float64)
        self.m = torch.randn(11, 1, 8, 8, generator=g, dtype=torch.float64)

    def __call__(self, x, t, labels=None):
        lab = torch.full_like(t, 10) if labels is None else labels
        return (self.a[t].view(-1, 1, 1, 1) * self.pix * x.double() + self.m[lab]).to(x.dtype)


class _R90:
    def apply(self, x):
        return torch.rot90(x, 1, dims=(-2, -1))

    def inverse(self, x):
        return torch.rot90(x, -1, dims=(-2, -1))


class _HF:
    def apply(self, x):
        return torch.flip(x, dims=(-1,))

    def inverse(self, x):
        return torch.flip(x, dims=(-1,))


class _Id:
    def apply(self, x):
        return x

    def inverse(self, x):
        return x


_f = _Fake()
_g = torch.Generator().manual_seed(34)
_x = torch.randn(4, 1, 8, 8, generator=_g, dtype=torch.float64)
_t = torch.tensor([980, 420, 10, 0])
_ys = [torch.tensor([6, 1, 0, 2]), torch.tensor([9, 7, 3, 5]), torch.tensor([4, 4, 8, 1])]
_views = [_Id(), _R90(), _HF()]
_inv = [
    lambda e: e,
    lambda e: torch.rot90(e, -1, dims=(-2, -1)),
    lambda e: torch.flip(e, dims=(-1,)),
]
_fwd = [
    lambda e: e,
    lambda e: torch.rot90(e, 1, dims=(-2, -1)),
    lambda e: torch.flip(e, dims=(-1,)),
]
_at = _f.a[_t].view(-1, 1, 1, 1)
for _w in [0.0, 1.0, 4.0]:
    _ref = torch.zeros_like(_x)
    for _k in range(3):
        _vx = _fwd[_k](_x)
        _u = _at * _f.pix * _vx + _f.m[torch.full_like(_t, 10)]
        _c = _at * _f.pix * _vx + _f.m[_ys[_k]]
        _ref = _ref + _inv[_k](_u + _w * (_c - _u)) / 3
    for _dtype, _tol in [(torch.float64, 1e-9), (torch.float32, 1e-5)]:
        _out = multiview_prediction(_f, _x.to(_dtype), _t, _views, _ys, _w, 10)
        assert _out.dtype == _dtype, "the result should keep the dtype of x_t"
        _err = ((_out.double() - _ref).abs().max() / _ref.abs().max()).item()
        assert _err < _tol, (
            f"three views (identity, quarter turn, flip) at w = {_w} give a wrong "
            f"average (relative error {_err:.3g}): each view needs its own labels, "
            "guidance, and its inverse; average (mean) over the views"
        )

# %%
# HIDDEN
# Quality check on the pretrained model (batch from PS3_QUALITY_BATCH, default 32).
import os

import torch

from diffcourse.judge import DigitsJudge
from diffcourse.pretrained import load_digits_model


class _R180:
    def apply(self, x):
        return torch.rot90(x, 2, dims=(-2, -1))

    def inverse(self, x):
        return torch.rot90(x, -2, dims=(-2, -1))


class _Id:
    def apply(self, x):
        return x

    def inverse(self, x):
        return x


_n = int(os.environ.get("PS3_QUALITY_BATCH", "32"))
_dev = "cuda" if torch.cuda.is_available() else "cpu"  # a GPU grader runs it at scale
_model = load_digits_model(device=_dev)
_abar = _model.alphas_cumprod
_ya = torch.tensor([1, 0]).repeat(_n)[:_n].to(_dev)
_yb = torch.tensor([7, 3]).repeat(_n)[:_n].to(_dev)
_x = torch.randn(_n, 1, 8, 8, generator=torch.Generator().manual_seed(2025)).to(_dev)
_steps = list(range(0, 1000, 40))[::-1]
with torch.no_grad():
    for _i, _s in enumerate(_steps):
        _sp = _steps[_i + 1] if _i + 1 < len(_steps) else -1
        _tt = torch.full((_n,), _s, dtype=torch.long, device=_dev)
        _eps = multiview_prediction(
            _model, _x, _tt, [_Id(), _R180()], [_ya, _yb], 2.0, _model.null_label
        ).double()
        _a = _abar[_s].item()
        _ap = _abar[_sp].item() if _sp >= 0 else 1.0
        _x0 = ((_x.double() - (1 - _a) ** 0.5 * _eps) / _a**0.5).clamp(-1, 1)
        _eps = (_x.double() - _a**0.5 * _x0) / (1 - _a) ** 0.5
        _x = (_ap**0.5 * _x0 + (1 - _ap) ** 0.5 * _eps).float()
_j = DigitsJudge()
_ok = (_j.predict(_x) == _ya.cpu()) & (_j.predict(torch.rot90(_x, 2, dims=(-2, -1))) == _yb.cpu())
_rate = _ok.double().mean().item()
assert _rate >= 0.5, (
    f"only {_rate:.0%} of the anagrams (1 that reads 7 upside down, 0 that reads 3) "
    "work with the pretrained model: check that each view gets its own labels and "
    "that the predictions are mapped back and averaged"
)

# %%
# HIDDEN
# Arguments stay untouched; a batch of one keeps its batch dimension.
import torch


class _Fake:
    def __init__(self):
        g = torch.Generator().manual_seed(35)
        self.a = torch.linspace(0.05, 1.5, 1000, dtype=torch.float64)
        self.pix = 0.2 + torch.rand(1, 1, 8, 8, generator=g, dtype=torch.float64)
        self.m = torch.randn(11, 1, 8, 8, generator=g, dtype=torch.float64)

    def __call__(self, x, t, labels=None):
        lab = torch.full_like(t, 10) if labels is None else labels
        return (self.a[t].view(-1, 1, 1, 1) * self.pix * x.double() + self.m[lab]).to(x.dtype)


class _R90:
    def apply(self, x):
        return torch.rot90(x, 1, dims=(-2, -1))

    def inverse(self, x):
        return torch.rot90(x, -1, dims=(-2, -1))


class _Id:
    def apply(self, x):
        return x

    def inverse(self, x):
        return x


_f = _Fake()
_x = torch.randn(1, 1, 8, 8, generator=torch.Generator().manual_seed(36), dtype=torch.float64)
_t = torch.tensor([333])
_ys = [torch.tensor([2]), torch.tensor([8])]
_saved = [_x.clone(), _t.clone(), _ys[0].clone(), _ys[1].clone()]
_out = multiview_prediction(_f, _x, _t, [_Id(), _R90()], _ys, 3.0, 10)
assert isinstance(_out, torch.Tensor) and _out.shape == (1, 1, 8, 8), (
    "a batch of one image (1, C, H, W) should give a prediction of shape (1, C, H, W)"
)
assert all(torch.equal(_a, _b) for _a, _b in zip([_x, _t, *_ys], _saved, strict=True)), (
    "multiview_prediction changed x_t, t or the labels in place: compute new tensors instead"
)
_at = _f.a[333]
_ref = torch.zeros_like(_x)
for _vx, _inv, _y in [
    (_x, lambda e: e, 2),
    (torch.rot90(_x, 1, dims=(-2, -1)), lambda e: torch.rot90(e, -1, dims=(-2, -1)), 8),
]:
    _ref = _ref + _inv(_at * _f.pix * _vx + _f.m[10] + 3.0 * (_f.m[_y] - _f.m[10])) / 2
assert (_out - _ref).abs().max().item() < 1e-9, "wrong average for a batch of one image"


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **A 6 that is a 9, and other anagrams.** Each row below is one anagram sampled with views
# (identity, rotation by 180 degrees); the second row of each pair shows it upside down. The judge reads
# each image in both orientations.


# %%
def anagrams(label_a, label_b, view, n=8, w=2.0, seed=0):
    gen = torch.Generator().manual_seed(seed)
    ya, yb = torch.full((n,), label_a), torch.full((n,), label_b)
    predict = lambda x, t: multiview_prediction(model, x, t, [Identity(), view], [ya, yb], w, NULL)
    x = sample_ddim(predict, torch.randn(n, 1, 8, 8, generator=gen), alphas_cumprod, num_steps=20)
    read_a, read_b = judge.predict(x), judge.predict(view.apply(x))
    works = ((read_a == label_a) & (read_b == label_b)).float().mean().item()
    show_images(
        torch.cat([x, view.apply(x)]),
        nrow=n,
        title=f"{label_a} / {label_b} after {type(view).__name__}: {works:.0%} read as both",
    )
    return x


six_nine = anagrams(6, 9, Rot180())
one_seven = anagrams(1, 7, Rot180(), seed=1)
zero_two = anagrams(0, 2, HFlip(), seed=2)


# %% [markdown]
# **Turning the image.** The animation rotates the first 6/9 anagram by half a turn, back and forth
# (smooth rotation with bilinear interpolation, on a 4x upsampled image).


# %%
def rotate(images, degrees):
    """Rotate (N, 1, H, W) images by an angle, with bilinear interpolation (background -1)."""
    angle = math.radians(degrees)
    theta = torch.tensor(
        [[math.cos(angle), -math.sin(angle), 0.0], [math.sin(angle), math.cos(angle), 0.0]]
    ).expand(images.shape[0], 2, 3)
    grid = torch.nn.functional.affine_grid(theta, images.shape, align_corners=False)
    out = torch.nn.functional.grid_sample(images + 1, grid, align_corners=False)
    return out - 1


big = torch.nn.functional.interpolate(
    six_nine[:4], scale_factor=4, mode="nearest"
)  # (4, 1, 32, 32)
frames = [rotate(big, d) for d in range(0, 181, 10)]
frames = frames + [frames[-1]] * 5 + frames[::-1] + [frames[0]] * 5
show_animation(frames, fps=12, scale=3)


# %% [markdown]
# ## Part 4. Restoration: the model as a prior
#
# We observe a degraded digit $y = A x_0$ and want a plausible $x_0$: a sample of $p(x_0 \mid y)$. The
# model knows $p(x_0)$; the methods below steer its sampler towards agreement with $y$.
#
# **Inpainting by replacement.** Here $A$ keeps the known pixels (`mask == 1`) and drops the others.
# After each reverse step $x_t \to x_{t'}$ (with $t' < t$ the next timestep, $-1$ at the end), overwrite
# the known pixels of $x_{t'}$ with the observation noised to the **same** level,
# $\sqrt{\bar\alpha_{t'}}\, y + \sqrt{1-\bar\alpha_{t'}}\, \varepsilon$, so that the model sees a
# consistent noisy image and fills in the rest.
#
# **RePaint** (Lugmayr et al., 2022) notices that the filled-in pixels never had a chance to agree with
# the replaced ones, and *resamples*: after a step $t \to t'$ and the replacement, it jumps back to $t$
# by noising with the forward process $q(x_t \mid x_{t'})$ and repeats the step, several times.
# For $s < t$ the forward process from $x_s$ to $x_t$ is
# $$x_t = \sqrt{\bar\alpha_t / \bar\alpha_s}\; x_s + \sqrt{1 - \bar\alpha_t / \bar\alpha_s}\; \varepsilon
# \qquad (\bar\alpha_{-1} := 1).$$

# %% [raw]
# # BEGIN QUESTION
# name: q4a
# points: 7

# %% [markdown]
# **Question 4a (code, 7 points).** Write `replace_known(x_prev, y, mask, t_prev, noise, alphas_cumprod)`:
# `x_prev` is the sampler's $x_{t'}$ (shape `(B, ...)`), `y` the clean observation (same shape; its
# values where `mask == 0` are meaningless), `mask` a float tensor of 0s and 1s broadcastable to
# `x_prev` (1 = known), `t_prev` a `LongTensor (B,)` that may contain $-1$, and `noise` the
# $\varepsilon$ to use. Return $x_{t'}$ with its known pixels replaced by
# $\sqrt{\bar\alpha_{t'}}\, y + \sqrt{1-\bar\alpha_{t'}}\, \varepsilon$ and its other pixels unchanged.
# At $t' = -1$ the known pixels must equal `y` exactly.

# %% [raw]
# # BEGIN SOLUTION


# %%
def replace_known(x_prev, y, mask, t_prev, noise, alphas_cumprod):
    """Inpainting by replacement: known pixels of x_{t'} <- y noised to level t'."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q4a: write replace_known")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    shape = (-1,) + (1,) * (x_prev.dim() - 1)
    abar = abar_at(alphas_cumprod, t_prev).to(x_prev.dtype).view(shape)  # (B, 1, ...)
    y_noised = abar.sqrt() * y + (1 - abar).sqrt() * noise
    return mask * y_noised + (1 - mask) * x_prev
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

_abar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
_g = torch.Generator().manual_seed(0)
_x = torch.randn(2, 1, 8, 8, generator=_g)
_y = torch.randn(2, 1, 8, 8, generator=_g)
_e = torch.randn(2, 1, 8, 8, generator=_g)
_mask = torch.zeros(1, 1, 8, 8)
_mask[..., :4, :] = 1
_out = replace_known(_x, _y, _mask, torch.tensor([500, -1]), _e, _abar)
assert isinstance(_out, torch.Tensor), "replace_known should return a torch.Tensor"
assert _out.shape == _x.shape and _out.dtype == _x.dtype, (
    "the result should have the shape and dtype of x_prev"
)
assert (_out[1, :, :4] - _y[1, :, :4]).abs().max().item() < 1e-6, (
    "at t_prev = -1 the known pixels should equal the observation"
)

# %%
# HIDDEN
import torch

_abar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
_g = torch.Generator().manual_seed(41)
_x = torch.randn(5, 1, 8, 8, generator=_g, dtype=torch.float64)
_y = torch.randn(5, 1, 8, 8, generator=_g, dtype=torch.float64)
_e = torch.randn(5, 1, 8, 8, generator=_g, dtype=torch.float64)
_mask = (torch.rand(5, 1, 8, 8, generator=_g) < 0.5).double()
_tp = torch.tensor([998, 500, 37, 0, -1])
_out = replace_known(_x, _y, _mask, _tp, _e, _abar)
assert _out.shape == _x.shape and _out.dtype == torch.float64, "float64 in should give float64 out"
_ab = torch.cat([_abar, torch.ones(1, dtype=torch.float64)])[_tp].view(-1, 1, 1, 1)  # index -1 -> 1
_ref = _mask * (_ab.sqrt() * _y + (1 - _ab).sqrt() * _e) + (1 - _mask) * _x
_err = (_out - _ref).abs().max().item()
assert _err < 1e-9, (
    f"off by {_err:.3g}: known pixels should be the observation noised to level t_prev"
    " with each sample at its own timestep (abar of -1 is 1, not abar[T-1]), and "
    "unknown pixels should keep x_prev"
)
assert (_out[4] - _y[4])[_mask[4] > 0].abs().max().item() < 1e-12, (
    "after the final step (t_prev = -1) the known pixels must equal the observation exactly"
)
assert (_out - _x)[_mask == 0].abs().max().item() < 1e-12, (
    "the unknown pixels (mask 0) must be left as they are"
)

# %%
# HIDDEN
import torch

# 2D data with B = D = 2, float32, and a mask that broadcasts over the batch.
_abar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
_x = torch.tensor([[0.3, -1.2], [2.0, 0.5]])
_y = torch.tensor([[1.0, 9.0], [-0.5, 9.0]])
_e = torch.tensor([[0.7, 0.1], [-1.1, 0.4]])
_mask = torch.tensor([[1.0, 0.0]])
_tp = torch.tensor([900, 10])
_out = replace_known(_x, _y, _mask, _tp, _e, _abar)
assert _out.dtype == torch.float32, "float32 in should give float32 out"
_ab = _abar[_tp]
_ref0 = _ab.sqrt() * _y[:, 0].double() + (1 - _ab).sqrt() * _e[:, 0].double()
_err = (_out[:, 0].double() - _ref0).abs().max().item()
assert _err < 1e-5, (
    f"known coordinate off by {_err:.3g}: the per-sample coefficient must broadcast "
    "over the features (shape (B, 1)), not along them"
)
assert (_out[:, 1] - _x[:, 1]).abs().max().item() == 0, "the unknown coordinate must keep x_prev"

# %%
# HIDDEN
# Arguments stay untouched (x_prev above all); a batch of one keeps its batch dimension.
import torch

_abar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
_g = torch.Generator().manual_seed(43)
for _B in (3, 1):
    _x = torch.randn(_B, 1, 8, 8, generator=_g, dtype=torch.float64)
    _y = torch.randn(_B, 1, 8, 8, generator=_g, dtype=torch.float64)
    _e = torch.randn(_B, 1, 8, 8, generator=_g, dtype=torch.float64)
    _mask = (torch.rand(1, 1, 8, 8, generator=_g) < 0.5).double()
    _tp = torch.tensor([700, 0, -1][:_B])
    _saved = [_x.clone(), _y.clone(), _mask.clone(), _tp.clone(), _e.clone(), _abar.clone()]
    _out = replace_known(_x, _y, _mask, _tp, _e, _abar)
    assert isinstance(_out, torch.Tensor) and _out.shape == (_B, 1, 8, 8), (
        "the result should have the shape of x_prev (a batch of one keeps its batch dimension)"
    )
    assert all(
        torch.equal(_a, _b) for _a, _b in zip([_x, _y, _mask, _tp, _e, _abar], _saved, strict=True)
    ), (
        "replace_known changed one of its arguments in place (x_prev[mask] = ... writes into "
        "the sampler state): build a new tensor"
    )
    _ab = torch.cat([_abar, torch.ones(1, dtype=torch.float64)])[_tp].view(-1, 1, 1, 1)
    _ref = _mask * (_ab.sqrt() * _y + (1 - _ab).sqrt() * _e) + (1 - _mask) * _x
    assert (_out - _ref).abs().max().item() < 1e-9, "wrong replacement"


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4b
# points: 6

# %% [markdown]
# **Question 4b (code, 6 points).** Write `forward_jump(x_s, s, t, noise, alphas_cumprod)`, a sample of
# $q(x_t \mid x_s)$ for $s < t$ (both `LongTensor (B,)`, per sample; $s$ may be $-1$) with the given
# noise, following the formula above. It returns a tensor shaped like `x_s`, of its dtype.

# %% [raw]
# # BEGIN SOLUTION


# %%
def forward_jump(x_s, s, t, noise, alphas_cumprod):
    """Sample q(x_t | x_s) for s < t: the forward process between two noise levels."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q4b: write forward_jump")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    shape = (-1,) + (1,) * (x_s.dim() - 1)
    ratio = (abar_at(alphas_cumprod, t) / abar_at(alphas_cumprod, s)).to(x_s.dtype).view(shape)
    return ratio.sqrt() * x_s + (1 - ratio).sqrt() * noise
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

_abar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
_x = torch.randn(2, 1, 8, 8, generator=torch.Generator().manual_seed(0))
_e = torch.randn(2, 1, 8, 8, generator=torch.Generator().manual_seed(1))
_out = forward_jump(_x, torch.tensor([10, 400]), torch.tensor([30, 420]), _e, _abar)
assert isinstance(_out, torch.Tensor), "forward_jump should return a torch.Tensor"
assert _out.shape == _x.shape and _out.dtype == _x.dtype, (
    "the result should have the shape and dtype of x_s"
)
_same = forward_jump(_x, torch.tensor([10, 400]), torch.tensor([10, 400]), _e, _abar)
assert (_same - _x).abs().max().item() < 1e-5, "a jump from s to t = s should leave x_s unchanged"

# %%
# HIDDEN
import torch

_betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
_abar = torch.cumprod(1 - _betas, 0)
_g = torch.Generator().manual_seed(42)
_x = torch.randn(5, 1, 8, 8, generator=_g, dtype=torch.float64)
_e = torch.randn(5, 1, 8, 8, generator=_g, dtype=torch.float64)
_s = torch.tensor([979, 480, 17, 0, -1])
_t = torch.tensor([999, 500, 37, 1, 0])
_out = forward_jump(_x, _s, _t, _e, _abar)
assert _out.shape == _x.shape and _out.dtype == torch.float64, "float64 in should give float64 out"
_ext = torch.cat([_abar, torch.ones(1, dtype=torch.float64)])  # index -1 -> abar_{-1} = 1
_r = (_ext[_t] / _ext[_s]).view(-1, 1, 1, 1)
_ref = _r.sqrt() * _x + (1 - _r).sqrt() * _e
_err = (_out - _ref).abs().max().item()
assert _err < 1e-9, (
    f"off by {_err:.3g}: the coefficients should use the ratio abar_t / abar_s (with "
    "abar of -1 equal to 1, not abar[T-1]), each sample with its own s and t, and "
    "square roots on both terms"
)

# %%
# HIDDEN
import torch

# Chaining two jumps has the statistics of one jump: check the mean and variance in closed form.
_abar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
_x = torch.tensor([[0.3, -1.2], [2.0, 0.5]])  # B = D = 2, float32
_e = torch.tensor([[0.7, 0.1], [-1.1, 0.4]])
_s = torch.tensor([100, -1])
_t = torch.tensor([600, 5])
_out = forward_jump(_x, _s, _t, _e, _abar)
assert _out.dtype == torch.float32, "float32 in should give float32 out"
_ext = torch.cat([_abar, torch.ones(1, dtype=torch.float64)])
_r = (_ext[_t] / _ext[_s]).view(-1, 1)
_ref = _r.sqrt() * _x.double() + (1 - _r).sqrt() * _e.double()
_err = (_out.double() - _ref).abs().max().item()
assert _err < 1e-5, (
    f"off by {_err:.3g} on 2D data (B = D = 2): broadcast the per-sample coefficients "
    "over the features, as shape (B, 1)"
)

# %%
# HIDDEN
# Arguments stay untouched; a batch of one keeps its batch dimension.
import torch

_abar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
_g = torch.Generator().manual_seed(44)
_x = torch.randn(1, 1, 8, 8, generator=_g, dtype=torch.float64)
_e = torch.randn(1, 1, 8, 8, generator=_g, dtype=torch.float64)
_s = torch.tensor([250])
_t = torch.tensor([600])
_saved = [_x.clone(), _s.clone(), _t.clone(), _e.clone(), _abar.clone()]
_out = forward_jump(_x, _s, _t, _e, _abar)
assert isinstance(_out, torch.Tensor) and _out.shape == (1, 1, 8, 8), (
    "a batch of one image (1, C, H, W) should give a result of shape (1, C, H, W)"
)
assert all(torch.equal(_a, _b) for _a, _b in zip([_x, _s, _t, _e, _abar], _saved, strict=True)), (
    "forward_jump changed one of its arguments in place: compute a new tensor instead"
)
_r = _abar[600] / _abar[250]
_ref = _r.sqrt() * _x + (1 - _r).sqrt() * _e
assert (_out - _ref).abs().max().item() < 1e-9, "wrong jump for a batch of one image"


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# The given loop below inpaints the lower half of eight held-out digits with replacement alone
# (`resample=1`) and with RePaint (`resample=4`), with the unconditional model, 25 DDIM steps with
# $\eta = 1$ (the stochastic version, as RePaint uses).


# %%
def inpaint(y, mask, resample=1, num_steps=25, seed=0):
    gen = torch.Generator().manual_seed(seed)
    uncond = lambda x, t: model(x, t, torch.full_like(t, NULL))
    randn = lambda: torch.randn(y.shape, generator=gen)
    steps = ddim_timesteps(num_steps, T)
    x = randn()
    for i, t_now in enumerate(steps):
        t = torch.full((y.shape[0],), t_now, dtype=torch.long)
        t_prev = torch.full_like(t, steps[i + 1] if i + 1 < len(steps) else -1)
        for r in range(resample):
            with torch.no_grad():
                eps = uncond(x, t)
            x_prev = ddim_step(
                eps, t, t_prev, x, alphas_cumprod, eta=1.0, noise=randn(), clip_x0=True
            )
            x_prev = replace_known(x_prev, y, mask, t_prev, randn(), alphas_cumprod)
            if r < resample - 1 and t_prev[0] >= 0:
                x = forward_jump(x_prev, t_prev, t, randn(), alphas_cumprod)  # jump back to t
        x = x_prev
    return x


truth = torch.tensor(digits.images[-8:], dtype=torch.float32).unsqueeze(1) / 8 - 1  # (8, 1, 8, 8)
mask = torch.zeros(1, 1, 8, 8)
mask[..., :4, :] = 1  # the top half is known
shown = mask * truth  # missing pixels drawn in grey
by_replacement = inpaint(truth, mask, resample=1)
by_repaint = inpaint(truth, mask, resample=4)
show_images(
    torch.cat([truth, shown, by_replacement, by_repaint]),
    nrow=8,
    title="truth / observed top half / replacement / RePaint (4 resamplings)",
)
for name, x in [("replacement", by_replacement), ("RePaint", by_repaint)]:
    known_error = ((x - truth) * mask).abs().max().item()
    right = (judge.predict(x) == torch.tensor(digits.target[-8:])).float().mean()
    print(f"{name:12s} judge reads the true digit {right:.0%}, known-pixel error {known_error:.1e}")


# %% [raw]
# # BEGIN QUESTION
# name: q4c
# manual: true
# points: 6

# %% [markdown]
# **Question 4c (written, 6 points).** Posterior-sampling methods sample $p(x_0 \mid y)$ by following the
# conditional score $\nabla \log p_t(x_t \mid y) = \nabla \log p_t(x_t) + \nabla \log p_t(y \mid x_t)$, or by
# enforcing consistency with $y$ after every step. (a) Write one replacement step as
# $x_{t'} \leftarrow x'_{t'} + A^\top (y_{t'} - A x'_{t'})$ for a matrix $A$ that selects the known pixels
# ($A A^\top = I$), and say what $y_{t'}$ is. This is the hard data-consistency (projection) special case
# of posterior sampling for a noiseless linear observation (it appears as such in Song et al., 2022,
# and as ILVR's update, Choi et al., 2021, with the low-pass filter replaced by $A^\top A$).
# (b) Explain why replacement is *biased*: why the unknown pixels it produces are not distributed as
# $p(x_0^{\text{unknown}} \mid y)$, in particular at the first, very noisy steps, and how RePaint's resampling
# reduces (without removing) the problem.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# **Solution.** (a) $A x$ extracts the known pixels and $A^\top$ puts values back at those positions
# (zeros elsewhere), so $A^\top A = \mathrm{diag}(\text{mask})$. Then
# $x'_{t'} + A^\top(y_{t'} - A x'_{t'}) = (I - A^\top A)\, x'_{t'} + A^\top y_{t'}$: unknown pixels keep the
# sampler's values and known pixels become $y_{t'}$, with
# $y_{t'} = \sqrt{\bar\alpha_{t'}}\, y + \sqrt{1-\bar\alpha_{t'}}\, A\varepsilon$, $\varepsilon \sim \mathcal N(0, I)$:
# the observation noised to the current level, a sample of $q(A x_{t'} \mid A x_0 = y)$. It is the
# orthogonal projection of $x'_{t'}$ onto the affine set $\{x : A x = y_{t'}\}$, which is the posterior
# update when the likelihood $p(y_{t'} \mid x_{t'})$ is treated as a hard constraint on the noisy
# observation.
#
# (b) The exact conditional reverse step would draw the unknown pixels from
# $p(x^{u}_{t'} \mid x_t, y)$, which depends on $y$ itself. Replacement instead draws them from the
# unconditional $p(x^{u}_{t'} \mid x_t)$, where $y$ enters only through the known part of $x_t$, i.e.
# through $\sqrt{\bar\alpha_t} y$ buried in noise of variance $1-\bar\alpha_t$, and the known part is
# re-drawn with fresh noise that is independent of the trajectory of the unknown part. Hence the joint
# $(x^k_t, x^u_t)$ is not distributed as $p_t(x_t \mid y)$ (its known part is a sample of
# $q(x^k_t \mid y)$ glued to an unknown part that did not see $y$); at the first steps
# ($\bar\alpha_t \approx 0$) the known pixels carry almost no signal, so the unknown region commits to a
# global layout independently of $y$ (a different digit, a stroke that does not connect), and later
# low-noise steps can only make local changes: the result is often incoherent at the boundary. In a
# Gaussian example, $x_0 = (a, b)$ with correlation $\rho$, the exact answer is
# $b \mid a \sim \mathcal N(\rho a, 1-\rho^2)$, while the unknown coordinate under replacement is pulled
# towards $\rho a$ only through the noisy replaced value at each step, which under-corrects.
# RePaint jumps back ($x_{t'} \to x_t$ with the forward process) and repeats the step several times, so
# the unknown pixels are denoised again while conditioned on known pixels that already agree with
# $y$: each round harmonises the two regions a bit more (like extra MCMC steps towards
# $p_t(x_t \mid y)$), at $r$ times the cost, but with a finite number of resamplings the bias remains.
#
# Rubric (6 points):
# - 1 pt: $y_{t'} = \sqrt{\bar\alpha_{t'}}y + \sqrt{1-\bar\alpha_{t'}}\,A\varepsilon$ (noised to the current level $t'$).
# - 1 pt: shows the update equals $(I - A^\top A)x' + A^\top y_{t'}$ = keep unknown, replace known (a projection onto $\{Ax = y_{t'}\}$).
# - 2 pts: bias: unknown pixels are drawn from the unconditional reverse step, seeing $y$ only through the noisy known pixels, whose noise is re-drawn independently; so $x_t$ is not distributed as $p_t(x_t\mid y)$.
# - 1 pt: at high noise the known region carries little signal, the unknown region commits to a layout independent of $y$ that later steps cannot fix (incoherence).
# - 1 pt: RePaint's jump-back-and-redo harmonises the regions (more mixing at each level), reducing but not removing the bias, at higher cost.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [markdown]
# **Diffusion posterior sampling** (DPS; Chung et al., 2023) handles any differentiable degradation
# $A$ with a likelihood gradient. At each step it estimates the clean image by Tweedie's formula,
# $\hat x_0(x_t) = (x_t - \sqrt{1-\bar\alpha_t}\,\hat\varepsilon_\theta(x_t, t)) / \sqrt{\bar\alpha_t}$,
# and after the usual reverse step $x'_{t'}$ it moves against the gradient of the residual:
# $$x_{t'} = x'_{t'} - \zeta\, \nabla_{x_t} \big\lVert y - A(\hat x_0(x_t)) \big\rVert_2 .$$
# This is lecture 9's step: the gradient of the residual's norm, not of its square. (Chung et al. write
# it as the gradient of the squared residual divided by the residual's norm, which is the same step
# with half the step size.) We use $\zeta = 1$.
# The gradient is taken with respect to $x_t$, **through the network** (so it includes the network's
# Jacobian). Here $A$ is 2x downsampling by averaging 2x2 blocks ($8\times 8 \to 4 \times 4$).

# %% [raw]
# # BEGIN QUESTION
# name: q4d
# points: 9

# %% [markdown]
# **Question 4d (code, 9 points).** Write `dps_step(model, x_t, t, t_prev, y, operator, zeta, noise, alphas_cumprod)`:
# 1. compute $\hat\varepsilon$ = `model(x_t, t)` and $\hat x_0$ with gradient tracking from $x_t$ (hint: work
#    on a detached copy of `x_t` that requires gradients, `.requires_grad_(True)`);
# 2. for each sample $b$, the residual norm $r_b = \lVert y_b - \text{operator}(\hat x_0)_b \rVert_2$ over all its
#    non-batch entries, and the gradient $g = \nabla_{x} \sum_b r_b$ (`torch.autograd.grad`);
# 3. the reverse step $x'$ = `ddim_step(eps, t, t_prev, x_t, alphas_cumprod, eta=1.0, noise=noise)` (the given
#    helper, no clipping), with `eps` and `x_t` detached;
# 4. return $x' - \zeta g$, detached, shaped like `x_t`, of its dtype.
# `model` is called with two arguments, `model(x, t)` (the loop below passes the unconditional model).

# %% [raw]
# # BEGIN SOLUTION


# %%
def dps_step(model, x_t, t, t_prev, y, operator, zeta, noise, alphas_cumprod):
    """One DPS step: a DDIM (eta = 1) step, then a step down the residual's gradient in x_t."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q4d: write dps_step")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    shape = (-1,) + (1,) * (x_t.dim() - 1)
    abar_t = abar_at(alphas_cumprod, t).to(x_t.dtype).view(shape)
    with torch.enable_grad():
        x = x_t.detach().requires_grad_(True)
        eps = model(x, t)  # (B, ...), differentiable in x
        x0_hat = (x - (1 - abar_t).sqrt() * eps) / abar_t.sqrt()
        residual = (y - operator(x0_hat)).flatten(1).norm(dim=1)  # (B,)
        (grad,) = torch.autograd.grad(residual.sum(), x)
    x_prev = ddim_step(eps.detach(), t, t_prev, x_t.detach(), alphas_cumprod, eta=1.0, noise=noise)
    return (x_prev - zeta * grad).detach()
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

_abar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
_model = lambda x, t: 0.5 * x
_pool = lambda x: x.reshape(x.shape[0], 1, 4, 2, 4, 2).mean((3, 5))
_x = torch.randn(2, 1, 8, 8, generator=torch.Generator().manual_seed(0))
_y = torch.zeros(2, 1, 4, 4)
_e = torch.zeros(2, 1, 8, 8)
_out = dps_step(
    _model, _x, torch.tensor([500, 20]), torch.tensor([480, 0]), _y, _pool, 0.0, _e, _abar
)
assert isinstance(_out, torch.Tensor), "dps_step should return a torch.Tensor"
assert _out.shape == _x.shape and _out.dtype == _x.dtype, (
    "the result should have the shape and dtype of x_t"
)
assert not _out.requires_grad, "return a detached tensor"

# %%
# HIDDEN
import torch


class _Fake:  # a nonlinear model with a known Jacobian structure
    def __init__(self):
        g = torch.Generator().manual_seed(51)
        self.a = torch.linspace(0.2, 1.6, 1000, dtype=torch.float64)
        self.pix = 0.5 + torch.rand(1, 1, 8, 8, generator=g, dtype=torch.float64)
        self.c = torch.randn(1, 1, 8, 8, generator=g, dtype=torch.float64)

    def __call__(self, x, t, labels=None):
        a = self.a[t].view(-1, 1, 1, 1).to(x.dtype)
        return a * self.pix.to(x.dtype) * torch.tanh(x) + 0.3 * x + self.c.to(x.dtype)


_f = _Fake()
_abar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
_pool = lambda x: x.reshape(x.shape[0], 1, 4, 2, 4, 2).mean((3, 5))
_g = torch.Generator().manual_seed(52)
_x = torch.randn(5, 1, 8, 8, generator=_g, dtype=torch.float64)
_y = torch.randn(5, 1, 4, 4, generator=_g, dtype=torch.float64)
_e = torch.randn(5, 1, 8, 8, generator=_g, dtype=torch.float64)
_t = torch.tensor([999, 500, 37, 1, 0])
_tp = torch.tensor([979, 480, 17, 0, -1])
_zeta = 0.7
_out = dps_step(_f, _x, _t, _tp, _y, _pool, _zeta, _e, _abar)
assert _out.shape == _x.shape and _out.dtype == torch.float64, "float64 in should give float64 out"
assert torch.isfinite(_out).all().item(), "dps_step returned nan or inf"
_ext = torch.cat([_abar, torch.ones(1, dtype=torch.float64)])
_at = _ext[_t].view(-1, 1, 1, 1)
_ap = _ext[_tp].view(-1, 1, 1, 1)
_xr = _x.clone().requires_grad_(True)
_eps = _f(_xr, _t)
_x0 = (_xr - (1 - _at).sqrt() * _eps) / _at.sqrt()
_res = (_y - _pool(_x0)).flatten(1).norm(dim=1)
(_grad,) = torch.autograd.grad(_res.sum(), _xr)
_eps = _eps.detach()
_x0 = _x0.detach()
_sig = ((1 - _ap) / (1 - _at) * (1 - _at / _ap)).sqrt()
_ref = _ap.sqrt() * _x0 + (1 - _ap - _sig**2).clamp(min=0).sqrt() * _eps + _sig * _e - _zeta * _grad
_err = (_out - _ref).abs().max().item()
assert _err < 1e-8, (
    f"DPS step off by {_err:.3g}: take the gradient of the sum of per-sample residual "
    "norms (not squared) with respect to x_t, through the model (do not detach eps "
    "before the gradient), subtract zeta times it from the DDIM step with eta = 1 and"
    " the given noise"
)

# %%
# HIDDEN
import torch

# zeta = 0 leaves the plain DDIM (eta = 1) step; the correction follows the gradient's sign.
_abar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
_model = lambda x, t, labels=None: 0.8 * torch.sin(x) + 0.1
_op = lambda x: x[:, :1]  # observe the first coordinate of 2D data
_x = torch.tensor([[0.5, -1.0], [1.5, 0.2]], dtype=torch.float64)  # B = D = 2
_y = torch.tensor([[2.0], [-1.0]], dtype=torch.float64)
_e = torch.tensor([[0.3, -0.4], [1.0, 0.6]], dtype=torch.float64)
_t = torch.tensor([700, 40])
_tp = torch.tensor([650, 20])
_at = _abar[_t].view(-1, 1)
_ap = _abar[_tp].view(-1, 1)
_eps = _model(_x, _t)
_x0 = (_x - (1 - _at).sqrt() * _eps) / _at.sqrt()
_sig = ((1 - _ap) / (1 - _at) * (1 - _at / _ap)).sqrt()
_plain = _ap.sqrt() * _x0 + (1 - _ap - _sig**2).sqrt() * _eps + _sig * _e
_out0 = dps_step(_model, _x, _t, _tp, _y, _op, 0.0, _e, _abar)
_err = (_out0 - _plain).abs().max().item()
assert _err < 1e-9, (
    "with zeta = 0 the result should be the DDIM step with eta = 1 and the given "
    f"noise (off by {_err:.3g}); per-sample coefficients must broadcast over the "
    "features (B = D = 2 here)"
)
_d = torch.tensor([[1.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
_jac = (1 - (1 - _at).sqrt() * 0.8 * torch.cos(_x[:, :1])) / _at.sqrt()  # d x0_hat[0] / d x[0]
_res_sign = torch.sign(_y - _x0[:, :1])
_ref = _plain - 0.5 * (-_res_sign * _jac) * _d
_out = dps_step(_model, _x, _t, _tp, _y, _op, 0.5, _e, _abar)
_err = (_out - _ref).abs().max().item()
assert _err < 1e-9, (
    f"DPS correction off by {_err:.3g}: the gradient of the residual norm with respect"
    " to x_t includes the model Jacobian, and the step goes down the gradient (x "
    "minus zeta times it)"
)

# %%
# HIDDEN
# Gradient discipline: works under torch.no_grad(), leaves the caller's tensors untouched.
import torch

_abar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
_model = lambda x, t, labels=None: 0.6 * torch.tanh(x) + 0.2 * x
_op = lambda x: x[:, :1]
_x = torch.tensor([[0.4, -0.3]], dtype=torch.float64)  # a batch of one 2D point
_y = torch.tensor([[1.5]], dtype=torch.float64)
_e = torch.tensor([[0.2, -0.9]], dtype=torch.float64)
_t = torch.tensor([300])
_tp = torch.tensor([250])
_saved = [_x.clone(), _y.clone(), _e.clone(), _abar.clone()]
with torch.no_grad():
    _out = dps_step(_model, _x, _t, _tp, _y, _op, 0.4, _e, _abar)
assert isinstance(_out, torch.Tensor) and _out.shape == (1, 2) and not _out.requires_grad, (
    "dps_step should return a detached tensor of the shape of x_t (a batch of one keeps it)"
)
assert all(torch.equal(_a, _b) for _a, _b in zip([_x, _y, _e, _abar], _saved, strict=True)), (
    "dps_step changed one of its arguments in place: compute new tensors instead"
)
assert not _x.requires_grad and _x.grad is None, (
    "dps_step must leave the caller x_t as it was: take gradients on a detached copy, not on "
    "x_t itself"
)
_at, _ap = _abar[300], _abar[250]
_xr = _x.clone().requires_grad_(True)
with torch.enable_grad():
    _eps = _model(_xr, _t)
    _x0 = (_xr - (1 - _at).sqrt() * _eps) / _at.sqrt()
    (_grad,) = torch.autograd.grad((_y - _op(_x0)).flatten(1).norm(dim=1).sum(), _xr)
_eps, _x0 = _eps.detach(), _x0.detach()
_sig = ((1 - _ap) / (1 - _at) * (1 - _at / _ap)).sqrt()
_ref = _ap.sqrt() * _x0 + (1 - _ap - _sig**2).sqrt() * _eps + _sig * _e - 0.4 * _grad
assert (_out - _ref).abs().max().item() < 1e-9, (
    "dps_step is wrong when called under torch.no_grad(), as a sampling loop may call it: a "
    "function that needs gradients must enable them itself (torch.enable_grad())"
)


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **Super-resolution with DPS.** We observe only the 4x4 averages of eight held-out digits and sample
# with DPS (50 steps, unconditional model). The bottom row shows the downsampled result of each
# sample: it should match the observation.


# %%
def pool(x):
    """2x downsampling by averaging 2x2 blocks: (B, 1, 8, 8) -> (B, 1, 4, 4)."""
    return x.reshape(x.shape[0], 1, 4, 2, 4, 2).mean((3, 5))


def dps_sample(y, zeta=1.0, num_steps=50, seed=0):
    gen = torch.Generator().manual_seed(seed)
    uncond = lambda x, t: model(x, t, torch.full_like(t, NULL))
    steps = ddim_timesteps(num_steps, T)
    x = torch.randn(y.shape[0], 1, 8, 8, generator=gen)
    for i, t_now in enumerate(steps):
        t = torch.full((y.shape[0],), t_now, dtype=torch.long)
        t_prev = torch.full_like(t, steps[i + 1] if i + 1 < len(steps) else -1)
        noise = torch.randn(x.shape, generator=gen)
        x = dps_step(uncond, x, t, t_prev, y, pool, zeta, noise, alphas_cumprod)
    return x.clamp(-1, 1)


low = pool(truth)
restored = dps_sample(low)
upsampled = torch.nn.functional.interpolate(low, scale_factor=2, mode="nearest")
show_images(
    torch.cat(
        [
            truth,
            upsampled,
            restored,
            torch.nn.functional.interpolate(pool(restored), scale_factor=2),
        ]
    ),
    nrow=8,
    title="truth / observed 4x4 / DPS sample / its 4x4 average",
)
right = (judge.predict(restored) == torch.tensor(digits.target[-8:])).float().mean()
residual = (pool(restored) - low).abs().mean()
print(f"judge reads the true digit {right:.0%}; residual |y - A x| per pixel {residual:.3f}")


# %% [markdown]
# ## Part 5. Score distillation: the model as a critic
#
# Score distillation sampling (SDS; Poole et al., 2023, "DreamFusion") optimises the parameters $\phi$ of
# anything that *renders* an image, $x = g(\phi)$, so that the rendering looks like a sample of the
# model for a label $y$. DreamFusion renders a 3D scene (a NeRF) from random cameras with a text-to-image
# model as the critic; we will do the same at CPU size, first with $g$ = the pixels themselves, then with
# a tiny 3D object. Each iteration draws $t$ and $\varepsilon$, noises the rendering,
# $x_t = \sqrt{\bar\alpha_t}\, x + \sqrt{1-\bar\alpha_t}\, \varepsilon$, and uses the gradient
# $$\nabla_\phi \mathcal L_{\text{SDS}} = \mathbb E_{t, \varepsilon}\Big[\, w(t)\, \big(\hat\varepsilon_\theta(x_t, t, y) - \varepsilon\big)\, \frac{\partial x}{\partial \phi} \Big],
# \qquad w(t) = 1 - \bar\alpha_t ,$$
# with the guided prediction $\hat\varepsilon$ (SDS needs a high guidance weight).

# %% [raw]
# # BEGIN QUESTION
# name: q5a
# manual: true
# points: 6

# %% [markdown]
# **Question 5a (written, 6 points).** (a) Start from the diffusion training loss applied to the
# rendering, $\mathcal L(\phi) = \mathbb E_{t,\varepsilon}\big[\, w(t)\, \lVert \hat\varepsilon_\theta(x_t, t, y) - \varepsilon \rVert^2 \big]$
# with $x = g(\phi)$. Compute its gradient with respect to $\phi$ and show that the SDS gradient is this
# gradient with the network's Jacobian $\partial\hat\varepsilon_\theta / \partial x_t$ dropped (up to constant
# factors). Give one practical and one numerical reason for dropping it. (b) Using
# $\hat\varepsilon_\theta(x_t, t, y) \approx -\sqrt{1-\bar\alpha_t}\, \nabla_{x_t} \log p_t(x_t \mid y)$, explain why
# SDS is *mode seeking*: what it does to $x$ on average, and why its results tend to be over-saturated,
# smooth and much less diverse than samples of the model (which is why SDS needs a large guidance weight).

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# **Solution.** (a) By the chain rule, with $\partial x_t / \partial x = \sqrt{\bar\alpha_t}\, I$,
# $$\nabla_\phi \mathcal L = \mathbb E_{t,\varepsilon}\Big[\, 2 w(t)\, \sqrt{\bar\alpha_t}\; (\hat\varepsilon_\theta - \varepsilon)^\top \frac{\partial \hat\varepsilon_\theta}{\partial x_t}\; \frac{\partial x}{\partial \phi}\Big].$$
# Replacing the Jacobian $\partial\hat\varepsilon_\theta/\partial x_t$ by the identity (and absorbing
# $2\sqrt{\bar\alpha_t}$ into $w(t)$) gives the SDS gradient
# $\mathbb E[w(t)(\hat\varepsilon_\theta - \varepsilon)\, \partial x / \partial\phi]$. Practical reason: no
# backpropagation through the (large) network, so an iteration costs one forward pass, and the network
# can be used as a black box. Numerical reason: the Jacobian is poorly conditioned, especially at small
# noise levels, where the network approximates a scaled identity and its Jacobian is large and noisy;
# DreamFusion reports that including it gives worse results. (For the loss with the Jacobian, the
# expected gradient is dominated by the network's own errors, not by the data.)
#
# (b) With the score approximation,
# $w(t)(\hat\varepsilon - \varepsilon) \approx -w(t)\sqrt{1-\bar\alpha_t}\, \nabla_{x_t}\log p_t(x_t\mid y) - w(t)\,\varepsilon$.
# The $\varepsilon$ term has mean zero (it is a control variate that reduces the variance of the estimate),
# so on average SDS moves $x$ along $\mathbb E_{t,\varepsilon}[\, c(t)\, \nabla \log p_t(\sqrt{\bar\alpha_t}x + \sqrt{1-\bar\alpha_t}\varepsilon \mid y)]$:
# gradient **ascent on the log density of the noised model distributions** at the point $x$. Poole et
# al. show it is the gradient of $\sum_t c_t\, \mathrm{KL}(q(x_t \mid x) \,\|\, p_t(x_t \mid y))$, where
# $q(x_t\mid x)$ is a Gaussian of fixed variance around a single point: there is no entropy term that
# would spread $x$ out, so the optimum is a point of high density, a (smoothed) mode, not a sample. A
# single mode of a digit class is an "average", maximally typical digit: smooth, high contrast (extreme
# pixel values maximise the density along directions where the class is saturated), and every run
# from a similar start converges to similar modes: low diversity. Without guidance, the mode of
# $p_t(x_t\mid y)$ at high noise is a blurry mean image; a large $w$ sharpens the conditional (a tilt
# towards $p(y\mid x)^w$) so that its modes look like clear class members.
#
# Rubric (6 points):
# - 2 pts: correct chain-rule gradient including $\partial\hat\varepsilon/\partial x_t$ and $\sqrt{\bar\alpha_t}$; SDS = dropping the Jacobian (constants absorbed into $w$).
# - 1 pt: a practical reason (no backprop through the network: cost, memory, black box) and a numerical one (ill-conditioned/noisy Jacobian, worse results).
# - 1 pt: the $\varepsilon$ term has zero mean: on average SDS follows $\nabla \log p_t(x_t\mid y)$, ascent on the noised log density.
# - 1 pt: mode seeking: a point estimate with no entropy term (reverse-KL-like), converges to modes, not samples.
# - 1 pt: consequences: over-saturated/smooth, low diversity; a large guidance weight sharpens the conditional so its modes are recognisable.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q5b
# points: 9

# %% [markdown]
# **Question 5b (code, 9 points).** Write `sds_grad(model, x, t, noise, labels, guidance_scale, null_label, alphas_cumprod)`
# that returns $w(t)\,(\hat\varepsilon - \varepsilon)$ with $w(t) = 1 - \bar\alpha_t$, where $\hat\varepsilon$ is the
# classifier-free-guided prediction (weight `guidance_scale`; you may call your `cfg_prediction`) at
# $x_t = \sqrt{\bar\alpha_t}\, x + \sqrt{1-\bar\alpha_t}\,\varepsilon$, $\varepsilon$ = `noise`. `x` has shape
# `(B, ...)` and may require gradients (it is a rendering); the result must **not** carry a
# computation graph (no Jacobian: `torch.no_grad()` or `.detach()`). Same shape and dtype as `x`. The
# loop below passes this gradient to `torch.autograd.grad(x, phi, grad_outputs=...)`, so the chain rule supplies
# $\partial x / \partial \phi$.

# %% [raw]
# # BEGIN SOLUTION


# %%
def sds_grad(model, x, t, noise, labels, guidance_scale, null_label, alphas_cumprod):
    """Score distillation gradient w(t) (eps_hat(x_t) - eps), with the model's Jacobian dropped."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q5b: write sds_grad")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    shape = (-1,) + (1,) * (x.dim() - 1)
    abar = abar_at(alphas_cumprod, t).to(x.dtype).view(shape)
    with torch.no_grad():
        x_t = abar.sqrt() * x.detach() + (1 - abar).sqrt() * noise
        eps_hat = cfg_prediction(model, x_t, t, labels, guidance_scale, null_label)
        return (1 - abar) * (eps_hat - noise)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

_abar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
_model = lambda x, t, labels=None: torch.zeros_like(x)
_x = torch.randn(2, 1, 8, 8, generator=torch.Generator().manual_seed(0)).requires_grad_(True)
_e = torch.randn(2, 1, 8, 8, generator=torch.Generator().manual_seed(1))
_out = sds_grad(_model, _x, torch.tensor([999, 10]), _e, torch.tensor([3, 4]), 4.0, 10, _abar)
assert isinstance(_out, torch.Tensor), "sds_grad should return a torch.Tensor"
assert _out.shape == _x.shape and _out.dtype == _x.dtype, (
    "the result should have the shape and dtype of x"
)
assert not _out.requires_grad, "the SDS gradient must not carry a computation graph: detach it"

# %%
# HIDDEN
import torch


class _Fake:  # eps = a_t * pix * x + m[y]
    def __init__(self):
        g = torch.Generator().manual_seed(61)
        self.a = torch.linspace(0.1, 1.5, 1000, dtype=torch.float64)
        self.pix = 0.5 + torch.rand(1, 1, 8, 8, generator=g, dtype=torch.float64)
        self.m = torch.randn(11, 1, 8, 8, generator=g, dtype=torch.float64)

    def __call__(self, x, t, labels=None):
        lab = torch.full_like(t, 10) if labels is None else labels
        return (self.a[t].view(-1, 1, 1, 1) * self.pix * x.double() + self.m[lab]).to(x.dtype)


_f = _Fake()
_abar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
_g = torch.Generator().manual_seed(62)
_x = torch.randn(5, 1, 8, 8, generator=_g, dtype=torch.float64).requires_grad_(True)
_e = torch.randn(5, 1, 8, 8, generator=_g, dtype=torch.float64)
_t = torch.tensor([999, 500, 37, 1, 0])
_y = torch.tensor([2, 7, 7, 0, 5])
_w = 4.0
_out = sds_grad(_f, _x, _t, _e, _y, _w, 10, _abar)
assert _out.shape == _x.shape and _out.dtype == torch.float64, "float64 in should give float64 out"
assert not _out.requires_grad, "the SDS gradient must not carry a computation graph"
_at = _abar[_t].view(-1, 1, 1, 1)
_xt = _at.sqrt() * _x.detach() + (1 - _at).sqrt() * _e
_u = _f.a[_t].view(-1, 1, 1, 1) * _f.pix * _xt + _f.m[torch.full_like(_y, 10)]
_c = _f.a[_t].view(-1, 1, 1, 1) * _f.pix * _xt + _f.m[_y]
_ref = (1 - _at) * (_u + _w * (_c - _u) - _e)
_err = (_out - _ref).abs().max().item()
assert _err < 1e-9, (
    f"SDS gradient off by {_err:.3g}: it is (1 - abar_t) times (guided eps at x_t "
    "minus the noise), with x_t noised per sample at its own t, and no Jacobian of "
    "the model"
)

# %%
# HIDDEN
import torch

# 2D data (B = D = 2), float32, guidance weights 0 and 1 (unconditional and conditional limits).
_abar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
_m = torch.tensor(
    [[1.0, -2.0], [0.5, 0.5], [3.0, 1.0]], dtype=torch.float64
)  # labels 0, 1 and null = 2
_model = lambda x, t, labels=None: (0.5 * x.double() + _m[labels]).to(x.dtype)
_x = torch.tensor([[0.3, -1.2], [2.0, 0.5]])
_e = torch.tensor([[0.7, 0.1], [-1.1, 0.4]])
_t = torch.tensor([800, 30])
_y = torch.tensor([0, 1])
_at = _abar[_t].view(-1, 1)
_xt = _at.sqrt() * _x.double() + (1 - _at).sqrt() * _e.double()
for _w in [0.0, 1.0]:
    _out = sds_grad(_model, _x, _t, _e, _y, _w, 2, _abar)
    assert _out.dtype == torch.float32, "float32 in should give float32 out"
    _lab = _y if _w == 1.0 else torch.full_like(_y, 2)
    _ref = (1 - _at) * (0.5 * _xt + _m[_lab] - _e.double())
    _err = (_out.double() - _ref).abs().max().item()
    assert _err < 1e-5, (
        f"SDS gradient at w = {_w} off by {_err:.3g} on 2D data: broadcast per-sample "
        "coefficients over the features (shape (B, 1)) and check the weight 1 - "
        "abar_t"
    )

# %%
# HIDDEN
# Quality check on the pretrained model (batch from PS3_QUALITY_BATCH, default 32).
import os

import torch

from diffcourse.judge import DigitsJudge
from diffcourse.pretrained import load_digits_model

_n = int(os.environ.get("PS3_QUALITY_BATCH", "32"))
_dev = "cuda" if torch.cuda.is_available() else "cpu"  # a GPU grader runs it at scale
_model = load_digits_model(device=_dev)
_abar = _model.alphas_cumprod
_y = (torch.arange(_n) % 10).to(_dev)
_gen = torch.Generator().manual_seed(2026)
_theta = torch.zeros(_n, 1, 8, 8, device=_dev)
_m1, _m2 = torch.zeros_like(_theta), torch.zeros_like(_theta)  # Adam's moments
for _it in range(1, 60 + 1):
    _img = torch.tanh(_theta)
    _t = torch.randint(20, 980, (_n,), generator=_gen).to(_dev)
    _e = torch.randn(_img.shape, generator=_gen).to(_dev)
    _gr = sds_grad(_model, _img, _t, _e, _y, 4.0, _model.null_label, _abar)
    _g = _gr.float() * (1 - _img**2)  # chain rule through tanh
    _m1 = 0.9 * _m1 + 0.1 * _g
    _m2 = 0.999 * _m2 + 0.001 * _g**2
    _theta = _theta - 0.1 * (_m1 / (1 - 0.9**_it)) / ((_m2 / (1 - 0.999**_it)).sqrt() + 1e-8)
_acc = (DigitsJudge().predict(torch.tanh(_theta)) == _y.cpu()).double().mean().item()
assert _acc >= 0.7, (
    "score distillation with your sds_grad reaches the target digit for only "
    f"{_acc:.0%} of the images: check the sign (eps_hat minus noise), the guidance and"
    " the noising of x"
)

# %%
# HIDDEN
# The caller's x (a parameter being optimised) and noise stay untouched; a batch of one.
import torch

_abar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
_model = lambda x, t, labels=None: 0.5 * x + 0.1 * labels.to(x.dtype).view(-1, 1, 1, 1)
_x = torch.randn(1, 1, 4, 4, generator=torch.Generator().manual_seed(63), dtype=torch.float64)
_x = _x.requires_grad_(True)
_e = torch.randn(1, 1, 4, 4, generator=torch.Generator().manual_seed(64), dtype=torch.float64)
_t = torch.tensor([450])
_y = torch.tensor([3])
_saved = [_x.detach().clone(), _e.clone(), _t.clone(), _y.clone()]
_out = sds_grad(_model, _x, _t, _e, _y, 2.0, 0, _abar)
assert isinstance(_out, torch.Tensor) and _out.shape == (1, 1, 4, 4), (
    "a batch of one image (1, C, H, W) should give a gradient of shape (1, C, H, W)"
)
assert _x.grad is None, (
    "sds_grad filled x.grad (a backward pass on x): return the gradient as a tensor and leave "
    "the caller x and its .grad alone; the optimiser step is the caller job"
)
assert (
    all(torch.equal(_a, _b) for _a, _b in zip([_x.detach(), _e, _t, _y], _saved, strict=True))
    and _x.requires_grad
), "sds_grad changed x, noise, t or labels in place"
_a = _abar[450]
_xt = _a.sqrt() * _saved[0] + (1 - _a).sqrt() * _e
_ref = (1 - _a) * (0.5 * _xt + 0.1 * (3 * 2.0 + 0 * (1 - 2.0)) - _e)
assert (_out - _ref).abs().max().item() < 1e-9, "wrong SDS gradient for a batch of one image"


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **SDS on pixels.** We optimise ten 8x8 images, one per digit, starting from a blank (all $-1$) canvas
# parametrised as $x = \tanh(\phi)$, with Adam (written out below in a few lines; `torch.optim.Adam` does
# the same but imports much more of torch, which costs memory at grading time). The animation shows the
# optimisation.


# %%
class Adam:
    """Adam (Kingma and Ba, 2015) on one tensor, updated in place."""

    def __init__(self, param, lr, betas=(0.9, 0.999), eps=1e-8):
        self.param, self.lr, self.betas, self.eps, self.k = param, lr, betas, eps, 0
        self.m, self.v = torch.zeros_like(param), torch.zeros_like(param)

    @torch.no_grad()
    def step(self, grad):
        (b1, b2), self.k = self.betas, self.k + 1
        self.m = b1 * self.m + (1 - b1) * grad
        self.v = b2 * self.v + (1 - b2) * grad**2
        m_hat, v_hat = self.m / (1 - b1**self.k), self.v / (1 - b2**self.k)
        self.param -= self.lr * m_hat / (v_hat.sqrt() + self.eps)


def sds_pixels(labels, iterations=100, w=4.0, seed=0):
    gen = torch.Generator().manual_seed(seed)
    phi = torch.zeros(len(labels), 1, 8, 8, requires_grad=True)
    opt = Adam(phi, lr=0.1)
    frames = []
    for it in range(iterations):
        x = torch.tanh(phi)
        t = torch.randint(20, 980, (len(labels),), generator=gen)
        noise = torch.randn(x.shape, generator=gen)
        grad = sds_grad(model, x, t, noise, labels, w, NULL, alphas_cumprod)
        (grad_phi,) = torch.autograd.grad(x, phi, grad_outputs=grad)  # chain rule: dx/dphi
        opt.step(grad_phi)
        if it % 10 == 0:
            frames.append(x.detach())
    return torch.tanh(phi).detach(), frames


targets = torch.arange(10)
images, frames = sds_pixels(targets)
show_images(
    images, nrow=10, title=f"SDS images for 0..9; the judge reads {judge.predict(images).tolist()}"
)
show_animation(frames + [images] * 5, fps=10)


# %% [markdown]
# **A 3D object with two faces.** Now $\phi$ parametrises an $8\times8\times8$ grid of occupancies
# $o = \sigma(\phi) \in (0, 1)$, indexed `[batch, row, column, depth]`. We render it like an X-ray of
# ink: a ray through the grid is blank only if every cell it crosses is empty, so the rendered
# intensity along an axis is
# $$\text{render}(o) = 1 - \prod_{k} (1 - o_k),$$
# mapped to the data scale by $x = 2\,\text{render} - 1$. The front view looks along the depth axis
# (`axis=3`) and the side view along the columns (`axis=2`). SDS pushes the front to read one digit and
# the side another.

# %% [raw]
# # BEGIN QUESTION
# name: q5c
# points: 7

# %% [markdown]
# **Question 5c (code, 7 points).** Write `render_occupancy(grid, axis)`: `grid` holds occupancies in
# $[0, 1]$ (any shape; the loop below uses `(B, 8, 8, 8)`) and the result is $1 - \prod (1 - o)$ over the
# dimension `axis` (an `int`, possibly negative as in torch), with that dimension removed. It must be
# differentiable (the loop backpropagates through it) and keep the dtype of `grid`.

# %% [raw]
# # BEGIN SOLUTION


# %%
def render_occupancy(grid, axis):
    """Probability that a ray along `axis` meets ink: 1 - prod(1 - occupancy)."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q5c: write render_occupancy")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    return 1 - torch.prod(1 - grid, dim=axis)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

_grid = torch.rand(2, 8, 8, 8, generator=torch.Generator().manual_seed(0))
_out = render_occupancy(_grid, 3)
assert isinstance(_out, torch.Tensor), "render_occupancy should return a torch.Tensor"
assert _out.shape == (2, 8, 8) and _out.dtype == _grid.dtype, (
    "rendering (2, 8, 8, 8) along axis 3 should give (2, 8, 8) of the same dtype"
)
assert render_occupancy(torch.zeros(1, 8, 8, 8), 1).abs().max().item() == 0, (
    "an empty grid should render blank (0)"
)

# %%
# HIDDEN
import torch

_g = torch.Generator().manual_seed(71)
_grid = torch.rand(3, 4, 5, 6, generator=_g, dtype=torch.float64)
_grid[0, 1, 2, :] = 1.0  # a fully occupied cell on a ray
_grid[1, :, 3, :] = 0.0
for _axis in [1, 2, 3, -1, -3]:
    _out = render_occupancy(_grid, _axis)
    assert _out.dtype == torch.float64, "float64 in should give float64 out"
    _keep = [d for d in range(4) if d != _axis % 4]
    assert tuple(_out.shape) == tuple(_grid.shape[d] for d in _keep), (
        f"rendering along axis {_axis} should remove that dimension only"
    )
    _moved = _grid.movedim(_axis % 4, -1)
    _ref = torch.ones(_moved.shape[:-1], dtype=torch.float64)
    for _k in range(_moved.shape[-1]):
        _ref = _ref * (1 - _moved[..., _k])
    _ref = 1 - _ref
    _err = (_out - _ref).abs().max().item()
    assert _err < 1e-12, (
        f"rendering along axis {_axis} off by {_err:.3g}: the intensity is 1 minus the"
        " product of (1 - occupancy) along the axis"
    )

# %%
# HIDDEN
import torch

_g = torch.Generator().manual_seed(72)
_grid = (0.05 + 0.9 * torch.rand(2, 8, 8, 8, generator=_g)).requires_grad_(True)
_out = render_occupancy(_grid, 2)
assert _out.dtype == torch.float32, "float32 in should give float32 out"
assert _out.requires_grad, "the rendering must stay differentiable: do not detach or use no_grad"
_w = torch.randn(_out.shape, generator=_g)
(_gr,) = torch.autograd.grad((_out * _w).sum(), _grid)
_ref = (
    _w.unsqueeze(2) * (1 - _out.detach()).unsqueeze(2) / (1 - _grid.detach())
)  # d/do_k of 1 - prod(1 - o)
_err = ((_gr - _ref).abs().max() / _ref.abs().max()).item()
assert _err < 1e-4, (
    f"the gradient of the rendering is wrong (relative error {_err:.3g}): the "
    "rendering should be 1 - prod(1 - occupancy) along the axis"
)

# %%
# HIDDEN
# The grid stays untouched; a batch of one keeps its batch dimension.
import torch

_grid = torch.rand(1, 4, 5, 6, generator=torch.Generator().manual_seed(73), dtype=torch.float64)
_saved = _grid.clone()
_out = render_occupancy(_grid, 2)
assert isinstance(_out, torch.Tensor) and _out.shape == (1, 4, 6), (
    "rendering a batch of one grid (1, 4, 5, 6) along axis 2 should give (1, 4, 6)"
)
assert torch.equal(_grid, _saved), (
    "render_occupancy changed the grid in place: compute 1 - grid as a new tensor"
)
_ref = 1 - (1 - _saved).prod(dim=2)
assert (_out - _ref).abs().max().item() < 1e-12, "wrong rendering of a batch of one grid"


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# The next cell optimises four objects (front digit / side digit: 1/7, 0/3, 4/1, 7/2) with SDS on both
# views at every iteration, then shows the two renderings and an animation of each object turning
# about its vertical axis (a quarter turn takes us from the front view to the side view).


# %%
def sds_object(front, side, iterations=150, w=4.0, seed=0):
    gen = torch.Generator().manual_seed(seed)
    n = len(front)
    phi = torch.full((n, 8, 8, 8), -3.0, requires_grad=True)  # nearly empty grid
    opt = Adam(phi, lr=0.2)
    for _ in range(iterations):
        occupancy = torch.sigmoid(phi)
        views = [2 * render_occupancy(occupancy, 3) - 1, 2 * render_occupancy(occupancy, 2) - 1]
        grads = []
        for x, labels in zip(views, [front, side], strict=True):
            t = torch.randint(20, 980, (n,), generator=gen)
            noise = torch.randn(n, 1, 8, 8, generator=gen)
            grads.append(
                sds_grad(model, x.unsqueeze(1), t, noise, labels, w, NULL, alphas_cumprod)[:, 0]
            )
        (grad_phi,) = torch.autograd.grad(views, phi, grad_outputs=grads)  # through the renderer
        opt.step(grad_phi)
    return torch.sigmoid(phi).detach()


def turn(occupancy, degrees):
    """Render the grid seen from an angle about the vertical (row) axis (trilinear resampling)."""
    a = math.radians(degrees)
    n = occupancy.shape[0]
    theta = torch.tensor(
        [
            [math.cos(a), 0.0, math.sin(a), 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [-math.sin(a), 0.0, math.cos(a), 0.0],
        ]
    ).expand(n, 3, 4)
    volume = occupancy.permute(0, 3, 1, 2).unsqueeze(1)  # (n, 1, depth, row, column)
    grid = torch.nn.functional.affine_grid(theta, volume.shape, align_corners=False)
    turned = torch.nn.functional.grid_sample(volume, grid, align_corners=False)[:, 0]
    return 2 * render_occupancy(turned.clamp(0, 1), 1).unsqueeze(1) - 1  # look along depth


front, side = torch.tensor([1, 0, 4, 7]), torch.tensor([7, 3, 1, 2])
objects = sds_object(front, side)
front_view = 2 * render_occupancy(objects, 3).unsqueeze(1) - 1
side_view = 2 * render_occupancy(objects, 2).unsqueeze(1) - 1
works = ((judge.predict(front_view) == front) & (judge.predict(side_view) == side)).float().mean()
show_images(
    torch.cat([front_view, side_view]),
    nrow=4,
    title=f"front (top) and side (bottom) views; both read correctly for {works:.0%}",
)
frames = [turn(objects, -d) for d in range(0, 91, 6)]  # ends on the side view
show_animation(frames + [frames[-1]] * 4 + frames[::-1] + [frames[0]] * 4, fps=10)
