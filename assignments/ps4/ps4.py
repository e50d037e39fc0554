# %% [raw]
# # ASSIGNMENT CONFIG
# name: ps4

# %% [markdown]
# # Problem set 4: flow matching and few-step generation
#
# Problem sets 1 to 3 built diffusion models as *noise predictors* and sampled them with hundreds of
# small steps. This set builds the same kind of model as a **velocity field** (flow matching, the
# way Stable Diffusion 3 and Flux are trained), shows that a diffusion model and a flow model are two
# parametrisations of one family, and then makes sampling fast:
#
# 1. **Flow matching**: Gaussian probability paths, the conditional velocity and the loss.
# 2. **One family**: converting a velocity into data, noise and score predictions.
# 3. **Integrating a flow**: Euler and Heun steps; a small model trained on a 2D toy whose density is
#    known exactly, measured against the truth.
# 4. **Reflow**: straightening the flow, and what it does to one-step samples.
# 5. **Few-step generation**: progressive distillation down to one step, and one plot of quality
#    against the number of network evaluations for DDPM, DDIM, flow Euler, flow Heun and the
#    distilled student.
#
# Each part has a theory question (answered in this notebook, graded by hand) and functions to write
# (graded automatically). Everything runs on a laptop CPU in about two minutes.
#
# | Part | Topic | Questions | Points |
# | --- | --- | --- | --- |
# | 1 | Flow matching | Q1a (written), Q1b | 20 |
# | 2 | One family | Q2a, Q2b, Q2c (written) | 26 |
# | 3 | Integrating a flow | Q3a | 14 |
# | 4 | Reflow | Q4a, Q4b (written) | 18 |
# | 5 | Few-step generation | Q5a, Q5b (written) | 22 |
# | | | **Total** | **100** |
#
# Written questions are worth 32 points, code questions 68 points.
#
# **On your computer**, unzip `ps4-student.zip`, install `requirements.txt` in a fresh virtual
# environment and open `ps4.ipynb` in JupyterLab inside the unzipped folder (the problem-set page on
# the course site shows the commands). **On Google Colab**, open the notebook with *Open in Colab* on
# that page (or upload `ps4.ipynb` from the zip) and run the set-up cell below.
#
# **What you receive.** A folder `diffcourse/` with the 2D toy data (`diffcourse.data`), the exact
# Gaussian-mixture density (`diffcourse.scores`), the small network (`diffcourse.models`) and a
# sample-quality metric (`diffcourse.metrics`). It does not contain any of the functions you are
# asked to write.
#
# **Grading.** Autograded questions have *public* tests, which `grader.check("q1b")` runs, and
# *hidden* tests, which run only on Gradescope after you submit. The public tests check the basics
# (shapes, dtypes, a simple case). **Passing them does not mean your answer is correct: the hidden
# tests decide most of the points.** They call your functions with their own inputs (other paths,
# float64 and float32, per-sample times, batches where the batch size equals the dimension, fields
# with known answers), so test your code beyond the examples here. The notebook is re-run from top
# to bottom when it is graded: keep every cell working and do not add long computations.
#
# Type written answers in the answer cells (Markdown with LaTeX, `$...$` and `$$...$$`).
#
# **A bug costs only its own function's points.** When the hidden tests of a question call other
# functions of yours, the grader gives them the reference implementation of those functions, so a
# mistake in one function is not charged again in every question that builds on it.
#
# **Submitting and collaboration.** The section *Submitting* at the end of the notebook says what to
# upload where, with the course's collaboration and AI-use rules.
#
# **Conventions** (the same as in lecture 12). Time is continuous, $t \in [0, 1]$, with **data at
# $t = 0$ and noise at $t = 1$** (the direction of the diffusion lectures; Lipman et al. run time the
# other way). A Gaussian probability path is
# $$x_t = \alpha_t x_0 + \sigma_t \varepsilon, \qquad x_0 \sim p_{\text{data}},\ \varepsilon \sim \mathcal N(0, I),$$
# with $\alpha_0 = 1, \sigma_0 = 0$ and $\alpha_1 = 0, \sigma_1 = 1$. The **linear** (rectified-flow)
# path has $\alpha_t = 1 - t$, $\sigma_t = t$; the **cosine** (variance-preserving) path
# $\alpha_t = \cos(\pi t / 2)$, $\sigma_t = \sin(\pi t / 2)$. A velocity field is a function
# `velocity(x, t)` of `x` with shape `(B, D)` and `t` a float tensor of shape `(B,)` (one time per
# sample, the dtype of `x`), returning a tensor shaped like `x`; sampling integrates
# $dx/dt = v(x, t)$ from $t = 1$ down to $t = 0$. Functions return tensors of the dtype of their input
# `x` and never change their arguments in place.

# %%
# Initialize Otter
import otter

grader = otter.Notebook("ps4.ipynb")

# %% [markdown]
# ## Set-up: the data, the network and a few given helpers
#
# The data is a mixture of three Gaussians in 2D. Its density is known exactly, and so is the
# density $p_t$ of $x_t$ at every time: each component $\mathcal N(\mu_k, s^2 I)$ becomes
# $\mathcal N(\alpha_t \mu_k, (\alpha_t^2 s^2 + \sigma_t^2) I)$. `true_log_density(x, t)` computes
# $\log p_t(x)$; `true_score(x, t)` its gradient, by automatic differentiation. The network is the
# small residual MLP of problem set 1 (`TimeMLP`), wrapped so that it takes a float time in $[0, 1]$.

# %%
import math
import time

import matplotlib.pyplot as plt
import torch

from diffcourse.data import gaussian_mixture_2d
from diffcourse.metrics import sliced_wasserstein
from diffcourse.models import TimeMLP

torch.manual_seed(0)
torch.set_num_threads(1)  # these small models run fastest on one thread (and so does grading)
MIXTURE = gaussian_mixture_2d([[-2.0, 1.5], [2.0, 1.5], [0.0, -2.0]], 0.25)
N_EVAL = 4000  # samples per quality measurement


def returned(value, label):
    """What your function returned; a clear error if it returned None (a forgotten `return`)."""
    if value is None:
        raise TypeError(f"{label} returned None; did you forget `return`?")
    return value


def linear_path(t):
    """(alpha_t, sigma_t, alpha'_t, sigma'_t) of the linear path at float times t (B,)."""
    return 1 - t, t, -torch.ones_like(t), torch.ones_like(t)


def cosine_path(t):
    """(alpha_t, sigma_t, alpha'_t, sigma'_t) of the cosine (variance-preserving) path."""
    h = math.pi / 2
    return torch.cos(h * t), torch.sin(h * t), -h * torch.sin(h * t), h * torch.cos(h * t)


def true_log_density(x, t, path=linear_path):
    """log p_t(x) of the noised mixture: x (B, 2), t (B,) -> (B,)."""
    a, s, _, _ = path(t)
    var = (a**2)[:, None, None] * MIXTURE.covs.diagonal(dim1=1, dim2=2)[None] + (s**2)[
        :, None, None
    ]
    diff = x[:, None, :] - a[:, None, None] * MIXTURE.means[None].to(x)  # (B, K, 2)
    log_k = -0.5 * (diff**2 / var + torch.log(2 * math.pi * var)).sum(-1)  # (B, K)
    return torch.logsumexp(log_k + MIXTURE.weights.log().to(x), dim=1)


def true_score(x, t, path=linear_path):
    """grad_x log p_t(x), by autograd of the exact log density (valid for t > 0)."""
    with torch.enable_grad():
        x = x.detach().double().requires_grad_(True)
        (grad,) = torch.autograd.grad(true_log_density(x, t.double(), path).sum(), x)
    return grad


class FlowNet(torch.nn.Module):
    """v_theta(x, t): TimeMLP fed the time level round(999 t) (its embedding expects integers)."""

    def __init__(self, seed=0, width=128):
        super().__init__()
        torch.manual_seed(seed)
        self.net = TimeMLP(data_dim=2, width=width, num_blocks=3)

    def forward(self, x, t):
        return self.net(x, torch.round(t * 999).long())


class Adam:
    """Adam (Kingma and Ba, 2015) with a cosine learning-rate decay. torch.optim.Adam does the
    same but imports much more of torch, which costs memory at grading time."""

    def __init__(self, params, lr, steps, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.steps, self.betas, self.eps, self.k = (
            list(params), lr, steps, betas, eps, 0,
        )  # fmt: skip
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self):
        (b1, b2), self.k = self.betas, self.k + 1
        lr = self.lr * 0.5 * (1 + math.cos(math.pi * (self.k - 1) / self.steps))
        for p, m, v in zip(self.params, self.m, self.v, strict=True):
            m.mul_(b1).add_(p.grad, alpha=1 - b1)
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            p -= lr * (m / (1 - b1**self.k)) / ((v / (1 - b2**self.k)).sqrt() + self.eps)
            p.grad = None


def train(net, loss_fn, steps, lr):
    """Minimise loss_fn(step) over net's parameters; returns the list of losses."""
    opt, losses = Adam(net.parameters(), lr, steps), []
    for i in range(steps):
        loss = loss_fn(i)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    net.eval()
    return losses


TRUTH = MIXTURE.sample(N_EVAL, torch.Generator().manual_seed(1)).float()
Z_EVAL = torch.randn(N_EVAL, 2, generator=torch.Generator().manual_seed(2))


def quality(x):
    """Sliced Wasserstein distance of samples x (N, 2) to fresh samples of the true data."""
    return sliced_wasserstein(x.double(), TRUTH, generator=torch.Generator().manual_seed(3)).item()


# The metric's own noise: fresh samples of the true data are at a distance too (mostly from how
# many points each mode gets). Below this band the metric cannot rank samplers.
FLOOR = [
    quality(MIXTURE.sample(N_EVAL, torch.Generator().manual_seed(s)).float()) for s in range(4, 9)
]
print(
    f"sliced Wasserstein of fresh data samples (the metric's noise): {min(FLOOR):.3f} to {max(FLOOR):.3f}"
)

# %% [markdown]
# ## Part 1. Flow matching
#
# A Gaussian path joins every data point $x_0$ to every noise $\varepsilon$ by a curve
# $x_t = \alpha_t x_0 + \sigma_t\varepsilon$. Along it the point moves with the **conditional
# velocity** $u_t(x_0, \varepsilon) = \dot\alpha_t x_0 + \dot\sigma_t \varepsilon$ ($\varepsilon - x_0$
# on the linear path). The curves cross: many pairs pass through one point $x$ at time $t$ with
# different velocities. A flow needs *one* velocity per point, the **marginal velocity**
# $v_t(x)$, which moves the whole distribution $p_t$ along the path.
#
# The figure shows conditional paths of the linear path (straight, and they cross).

# %%
_g = torch.Generator().manual_seed(5)
_x0 = MIXTURE.sample(40, _g).float()
_eps = torch.randn(40, 2, generator=_g)
fig, ax = plt.subplots(figsize=(4, 4))
for _i in range(40):
    ax.plot([_x0[_i, 0], _eps[_i, 0]], [_x0[_i, 1], _eps[_i, 1]], color="gray", lw=0.6)
ax.scatter(_eps[:, 0], _eps[:, 1], s=8, color="k", label="noise (t = 1)")
ax.scatter(_x0[:, 0], _x0[:, 1], s=8, color="C3", label="data (t = 0)")
ax.set_title("conditional paths of the linear path")
ax.set_aspect("equal")
ax.legend(fontsize=7)
plt.show()

# %% [raw]
# # BEGIN QUESTION
# name: q1a
# manual: true
# points: 8

# %% [markdown]
# **Question 1a (written, 8 points).** (a) Show that the marginal velocity is the posterior mean of
# the conditional one,
# $$v_t(x) = \mathbb E\left[\dot\alpha_t x_0 + \dot\sigma_t \varepsilon \,\middle|\, x_t = x\right],$$
# by checking that it satisfies the continuity equation $\partial_t p_t + \nabla\cdot(p_t v_t) = 0$.
# (b) The flow-matching loss $\mathbb E_{t, x_t}\lVert v_\theta(x_t, t) - v_t(x_t)\rVert^2$ cannot be
# computed ($v_t$ is unknown); the **conditional** flow-matching loss
# $\mathbb E_{t, x_0, \varepsilon}\lVert v_\theta(x_t, t) - u_t(x_0, \varepsilon)\rVert^2$ can. Show
# that the two differ by a constant that does not depend on $\theta$, so they have the same
# minimiser.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# **Solution.** (a) For a fixed pair, $x_t = \alpha_t x_0 + \sigma_t\varepsilon$ moves with velocity
# $u_t$, so the conditional density $p_t(x \mid x_0, \varepsilon) = \delta(x - x_t)$ satisfies
# $\partial_t p_t(x \mid x_0, \varepsilon) + \nabla\cdot(p_t(x \mid x_0, \varepsilon)\, u_t(x_0, \varepsilon)) = 0$.
# Average over the pairs (the equation is linear):
# $\partial_t p_t(x) + \nabla\cdot \mathbb E[\delta(x - x_t) u_t] = 0$, and
# $\mathbb E[\delta(x - x_t) u_t] = p_t(x)\,\mathbb E[u_t \mid x_t = x]$ by the definition of the
# conditional expectation. So $v_t(x) = \mathbb E[u_t \mid x_t = x]$ satisfies the continuity equation
# with $p_t$: integrating $dx/dt = v_t(x)$ transports $p_1 = \mathcal N(0, I)$ to $p_0 = p_{\text{data}}$.
#
# (b) Expand both losses at a fixed $t$, writing $u = u_t(x_0, \varepsilon)$ and $v = v_t(x_t)$:
# $$\mathbb E\lVert v_\theta - u\rVert^2 = \mathbb E\lVert v_\theta\rVert^2 - 2\,\mathbb E\langle v_\theta, u\rangle + \mathbb E\lVert u\rVert^2 .$$
# By the tower rule $\mathbb E\langle v_\theta(x_t), u\rangle = \mathbb E\langle v_\theta(x_t), \mathbb E[u \mid x_t]\rangle
# = \mathbb E\langle v_\theta(x_t), v\rangle$, so
# $$\mathbb E\lVert v_\theta - u\rVert^2 = \mathbb E\lVert v_\theta - v\rVert^2 + \left(\mathbb E\lVert u\rVert^2 - \mathbb E\lVert v\rVert^2\right).$$
# The bracket (the conditional variance of $u$ given $x_t$) does not depend on $\theta$: same
# gradients, same minimiser, which is $v_\theta = v_t$ (the minimiser of a squared loss is the
# conditional mean). The CFM loss never reaches 0: its floor is that variance.
#
# Rubric (8 points):
# - 1 pt: the conditional path satisfies the continuity equation with velocity $u_t$.
# - 2 pts: averaging over pairs and identifying $\mathbb E[\delta(x - x_t) u_t] = p_t(x)\,\mathbb E[u_t \mid x_t = x]$.
# - 1 pt: concludes that the marginal flow transports noise to data.
# - 3 pts: expands the squares and uses the tower rule on the cross term.
# - 1 pt: the difference is $\theta$-free (conditional variance), so the minimisers coincide.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q1b
# points: 12

# %% [markdown]
# **Question 1b (code, 12 points).** Write `cfm_loss(velocity, x0, noise, t)`, the conditional
# flow-matching loss on the **linear** path: form $x_t = (1 - t)x_0 + t\varepsilon$, evaluate the
# field at $(x_t, t)$ and return the mean, over the batch **and** the coordinates (as `torch.mean`
# takes it), of the squared difference from the conditional velocity $\varepsilon - x_0$.
# `x0` and `noise` have shape `(B, D)`, `t` is a float tensor `(B,)`, one time per sample. Return a
# 0-dimensional tensor through which gradients reach the field's parameters.

# %% [raw]
# # BEGIN SOLUTION


# %%
def cfm_loss(velocity, x0, noise, t):
    """Conditional flow matching on the linear path: mean (v(x_t, t) - (noise - x0))^2."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q1b: write cfm_loss")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    tt = t.to(x0.dtype).view(-1, *([1] * (x0.dim() - 1)))
    x_t = (1 - tt) * x0 + tt * noise
    return torch.mean((velocity(x_t, t) - (noise - x0)) ** 2)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

_x0 = torch.tensor([[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]])
_noise = torch.tensor([[0.5, 0.0], [1.0, 1.0], [-1.0, 2.0]])
_t = torch.tensor([0.2, 0.5, 0.9])
_loss = cfm_loss(lambda x, t: torch.zeros_like(x), _x0, _noise, _t)
assert isinstance(_loss, torch.Tensor) and _loss.dim() == 0, "cfm_loss should return a 0-d tensor"
assert abs(_loss.item() - ((_noise - _x0) ** 2).mean().item()) < 1e-5, (
    "with a zero field the loss is the mean squared conditional velocity"
)

# %%
# HIDDEN
import torch

# B = D = 2, one time per sample, a field that depends on x and t: exact float64 value.
_A = torch.tensor([[0.3, -1.2], [0.7, 0.4]], dtype=torch.float64)
_b = torch.tensor([0.5, -2.0], dtype=torch.float64)
_field = lambda x, t: x @ _A.T + t[:, None] * _b + t[:, None] ** 2 * x
_x0 = torch.tensor([[1.0, -2.0], [0.3, 0.8]], dtype=torch.float64)
_noise = torch.tensor([[-0.4, 0.9], [1.5, -0.2]], dtype=torch.float64)
_t = torch.tensor([0.15, 0.85], dtype=torch.float64)
_xt = torch.stack([(1 - _t[i]) * _x0[i] + _t[i] * _noise[i] for i in range(2)])
_ref = ((_field(_xt, _t) - (_noise - _x0)) ** 2).mean().item()
_got = cfm_loss(_field, _x0, _noise, _t)
assert _got.dtype == torch.float64, "float64 inputs should give a float64 loss"
assert abs(_got.item() - _ref) < 1e-12, (
    "wrong loss value: check x_t (data at t = 0, noise at t = 1, each sample with its own t "
    "broadcast over its coordinates), the target velocity and the mean over all entries"
)

# %%
# HIDDEN
import torch

# Gradients reach the field's parameters; the arguments are left alone; float32 stays float32.
_g = torch.Generator().manual_seed(11)
_net = torch.nn.Linear(3, 3)
_field = lambda x, t: _net(x) * (1 + t[:, None])
_x0 = torch.randn(5, 3, generator=_g)
_noise = torch.randn(5, 3, generator=_g)
_t = torch.rand(5, generator=_g)
_args = [_x0.clone(), _noise.clone(), _t.clone()]
_loss = cfm_loss(_field, _x0, _noise, _t)
assert _loss.dtype == torch.float32, "float32 inputs should give a float32 loss"
assert all(torch.equal(a, b) for a, b in zip(_args, [_x0, _noise, _t], strict=True)), (
    "cfm_loss changed one of its arguments in place"
)
assert _loss.requires_grad, "no gradient reaches the field: do not detach its output"
_ = _loss.backward()
assert _net.weight.grad is not None, "no gradient reached the field: do not detach its output"
_w = _net.weight.detach().clone().requires_grad_(True)
_xt = (1 - _t)[:, None] * _x0 + _t[:, None] * _noise
_ref = (((_xt @ _w.T + _net.bias.detach()) * (1 + _t[:, None]) - (_noise - _x0)) ** 2).mean()
(_gw,) = torch.autograd.grad(_ref, _w)
assert (_net.weight.grad - _gw).abs().max().item() < 1e-5, "the gradient of the loss is wrong"

# %%
# HIDDEN
import torch

# The ends of the path and a batch of one: at t = 0 the field sees the data, at t = 1 the noise.
_seen = []


def _recording(x, t):
    assert x.shape == (1, 3), (
        "the field should receive x_t of shape (B, D), a batch of one included"
    )
    _seen.append(x.detach().clone())
    return torch.zeros_like(x)


_x0 = torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64)
_noise = torch.tensor([[-1.0, 0.5, 4.0]], dtype=torch.float64)
for _tv, _where in [(0.0, _x0), (1.0, _noise)]:
    _ = _seen.clear()
    _loss = cfm_loss(_recording, _x0, _noise, torch.tensor([_tv], dtype=torch.float64))
    assert _loss.dim() == 0, "a batch of one should still give a 0-d loss"
    assert len(_seen) >= 1 and (torch.cat(_seen) - _where).abs().max().item() < 1e-12, (
        "the field should be evaluated at x_t: the data at t = 0 and the noise at t = 1"
    )
    assert abs(_loss.item() - ((_noise - _x0) ** 2).mean().item()) < 1e-12, (
        "the target velocity of the linear path is noise - x0"
    )

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **Training a flow model.** The cell below trains the network with your loss on fresh samples of the
# mixture (about 10 seconds). The loss does not go to zero: Question 1a says why.

# %%
_g = torch.Generator().manual_seed(6)


def _teacher_batch(step):
    x0 = MIXTURE.sample(256, _g).float()
    noise, t = torch.randn(256, 2, generator=_g), torch.rand(256, generator=_g)
    return returned(cfm_loss(teacher, x0, noise, t), "q1b: cfm_loss")


_start = time.process_time()
teacher = FlowNet(seed=0)
teacher_losses = train(teacher, _teacher_batch, steps=1000, lr=2e-3)
print(f"trained in {time.process_time() - _start:.1f} s of CPU, last loss {teacher_losses[-1]:.3f}")
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(torch.tensor(teacher_losses).view(-1, 20).mean(1))
ax.set_xlabel("step / 20")
ax.set_ylabel("CFM loss")
ax.set_title("flow matching on the 2D mixture")
plt.show()

# %% [markdown]
# ## Part 2. One family: velocity, data, noise and score
#
# At a given $(x_t, t)$, the pair $(x_t, v)$ is an invertible linear function of the pair
# $(x_0, \varepsilon)$:
# $$x_t = \alpha_t x_0 + \sigma_t \varepsilon, \qquad v = \dot\alpha_t x_0 + \dot\sigma_t \varepsilon,$$
# so a network that predicts the velocity also predicts the clean data $\hat x_0$ and the noise
# $\hat\varepsilon$, and through Tweedie's formula the score. A diffusion model (noise prediction) and
# a flow model (velocity prediction) are two parametrisations of one model.

# %% [raw]
# # BEGIN QUESTION
# name: q2a
# points: 12

# %% [markdown]
# **Question 2a (code, 12 points).** Write `velocity_to_x0_eps(v, x_t, alpha, sigma, d_alpha, d_sigma)`
# for a **general** Gaussian path: given the predicted velocity `v` at `x_t` and the path's
# coefficients at each sample's time, return the pair `(x0_hat, eps_hat)` that the two equations above
# give. `v` and `x_t` have shape `(B, ...)` (any number of non-batch dimensions); `alpha`, `sigma`,
# `d_alpha`, `d_sigma` are tensors `(B,)` (the path's $\alpha_t, \sigma_t, \dot\alpha_t, \dot\sigma_t$,
# one per sample). Assume $\alpha_t\dot\sigma_t - \sigma_t\dot\alpha_t \neq 0$.

# %% [raw]
# # BEGIN SOLUTION


# %%
def velocity_to_x0_eps(v, x_t, alpha, sigma, d_alpha, d_sigma):
    """(x0_hat, eps_hat) from a velocity prediction on a general Gaussian path."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q2a: write velocity_to_x0_eps")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    shape = (-1,) + (1,) * (x_t.dim() - 1)
    a, s, da, ds = (c.to(x_t.dtype).view(shape) for c in (alpha, sigma, d_alpha, d_sigma))
    det = a * ds - s * da
    return (ds * x_t - s * v) / det, (a * v - da * x_t) / det
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

_x0 = torch.tensor([[1.0, -1.0], [2.0, 0.5], [0.0, 3.0]])
_eps = torch.tensor([[0.3, 0.2], [-1.0, 1.0], [0.5, -0.5]])
_t = torch.tensor([0.5, 0.5, 0.5])
_xt = (1 - _t)[:, None] * _x0 + _t[:, None] * _eps
_out = velocity_to_x0_eps(_eps - _x0, _xt, 1 - _t, _t, -torch.ones(3), torch.ones(3))
assert isinstance(_out, tuple) and len(_out) == 2, "return the pair (x0_hat, eps_hat)"
assert _out[0].shape == _x0.shape and _out[1].shape == _x0.shape, "each output has the shape of x_t"
assert (_out[0] - _x0).abs().max().item() < 1e-5, "on the linear path at t = 0.5, x0_hat is wrong"

# %%
# HIDDEN
import math

import torch

# The cosine path (determinant pi / 2, not 1), B = D = 2, one time per sample: exact round trip.
_g = torch.Generator().manual_seed(21)
_x0 = torch.randn(2, 2, generator=_g, dtype=torch.float64)
_eps = torch.randn(2, 2, generator=_g, dtype=torch.float64)
_t = torch.tensor([0.2, 0.7], dtype=torch.float64)
_h = math.pi / 2
_a, _s, _da, _ds = (
    torch.cos(_h * _t),
    torch.sin(_h * _t),
    -_h * torch.sin(_h * _t),
    _h * torch.cos(_h * _t),
)
_xt = _a[:, None] * _x0 + _s[:, None] * _eps
_v = _da[:, None] * _x0 + _ds[:, None] * _eps
_x0h, _epsh = velocity_to_x0_eps(_v, _xt, _a, _s, _da, _ds)
assert _x0h.dtype == torch.float64 and _epsh.dtype == torch.float64, "float64 in, float64 out"
_err = max((_x0h - _x0).abs().max().item(), (_epsh - _eps).abs().max().item())
assert _err < 1e-10, (
    f"the cosine path is not recovered (error {_err:.2g}): solve the two equations for a "
    "general path (its determinant is not 1), with each coefficient broadcast per sample"
)

# %%
# HIDDEN
import torch

# An unusual path, data of shape (B, C, L), a batch of one, float32; arguments left alone.
_g = torch.Generator().manual_seed(22)
for _B, _dtype, _tol in [
    (4, torch.float64, 1e-10),
    (1, torch.float64, 1e-10),
    (4, torch.float32, 1e-4),
]:
    _x0 = torch.randn(_B, 3, 5, generator=_g, dtype=torch.float64)
    _eps = torch.randn(_B, 3, 5, generator=_g, dtype=torch.float64)
    _t = torch.rand(_B, generator=_g, dtype=torch.float64) * 0.8 + 0.1
    _a, _s, _da, _ds = 1 - _t**2, 2 * _t.sqrt(), -2 * _t, 1 / _t.sqrt()
    _c = lambda c: c.view(-1, 1, 1)
    _xt = _c(_a) * _x0 + _c(_s) * _eps
    _v = _c(_da) * _x0 + _c(_ds) * _eps
    _args = [u.to(_dtype) for u in (_v, _xt, _a, _s, _da, _ds)]
    _copies = [u.clone() for u in _args]
    _x0h, _epsh = velocity_to_x0_eps(*_args)
    assert _x0h.shape == (_B, 3, 5) and _x0h.dtype == _dtype, (
        "outputs keep the shape (batch of one included) and the dtype of x_t"
    )
    assert all(torch.equal(u, c) for u, c in zip(_args, _copies, strict=True)), (
        "velocity_to_x0_eps changed one of its arguments in place"
    )
    _err = max((_x0h.double() - _x0).abs().max().item(), (_epsh.double() - _eps).abs().max().item())
    assert _err < _tol, (
        f"a general path with data of shape (B, C, L) is not recovered (error {_err:.2g})"
    )

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2b
# points: 6

# %% [markdown]
# **Question 2b (code, 6 points).** Write `velocity_to_score(v, x_t, alpha, sigma, d_alpha, d_sigma)`:
# the score $\nabla_x \log p_t(x_t)$ that a velocity prediction implies (same arguments as Question 2a;
# $\sigma_t > 0$). Use Tweedie's formula for Gaussian paths, $\mathbb E[\varepsilon \mid x_t] = -\sigma_t
# \nabla \log p_t(x_t)$. You may call your `velocity_to_x0_eps`.

# %% [raw]
# # BEGIN SOLUTION


# %%
def velocity_to_score(v, x_t, alpha, sigma, d_alpha, d_sigma):
    """The score implied by a velocity prediction: -eps_hat / sigma_t."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q2b: write velocity_to_score")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    _, eps_hat = velocity_to_x0_eps(v, x_t, alpha, sigma, d_alpha, d_sigma)
    return -eps_hat / sigma.to(x_t.dtype).view((-1,) + (1,) * (x_t.dim() - 1))
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

_xt = torch.tensor([[1.0, 2.0], [0.5, -0.5]])
_t = torch.tensor([0.5, 0.5])
_out = velocity_to_score(torch.zeros(2, 2), _xt, 1 - _t, _t, -torch.ones(2), torch.ones(2))
assert _out.shape == _xt.shape and _out.dtype == _xt.dtype, (
    "the score has the shape and dtype of x_t"
)

# %%
# HIDDEN
import math

import torch

# Gaussian data N(m, S^2 I): the exact velocity and the exact score of p_t are known in closed form.
_m = torch.tensor([0.7, -1.2], dtype=torch.float64)
_S = 0.5
_g = torch.Generator().manual_seed(23)
_x = 2 * torch.randn(2, 2, generator=_g, dtype=torch.float64)
_t = torch.tensor([0.3, 0.8], dtype=torch.float64)
_h = math.pi / 2
for _coefs in [
    (1 - _t, _t, -torch.ones(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)),
    (torch.cos(_h * _t), torch.sin(_h * _t), -_h * torch.sin(_h * _t), _h * torch.cos(_h * _t)),
]:
    _a, _s, _da, _ds = (c[:, None] for c in _coefs)
    _var = _a**2 * _S**2 + _s**2
    _v = _da * _m + (_a * _da * _S**2 + _s * _ds) / _var * (_x - _a * _m)
    _score = -(_x - _a * _m) / _var
    _got = velocity_to_score(_v, _x, *_coefs)
    assert _got.dtype == torch.float64, "float64 in, float64 out"
    _err = (_got - _score).abs().max().item()
    assert _err < 1e-10, (
        f"the score of Gaussian data is off by {_err:.2g}: check the sign and the power of "
        "sigma_t in Tweedie, and that each sample uses its own time"
    )

# %%
# HIDDEN
import torch

# float32, a batch of one, data of shape (B, C, L), arguments left alone.
_g = torch.Generator().manual_seed(24)
_v = torch.randn(1, 2, 3, generator=_g)
_xt = torch.randn(1, 2, 3, generator=_g)
_t = torch.tensor([0.4])
_args = [_v, _xt, 1 - _t, _t, -torch.ones(1), torch.ones(1)]
_copies = [u.clone() for u in _args]
_got = velocity_to_score(*_args)
assert _got.shape == (1, 2, 3) and _got.dtype == torch.float32, "shape and dtype of x_t"
assert all(torch.equal(u, c) for u, c in zip(_args, _copies, strict=True)), (
    "an argument was changed in place"
)
_ref = -(0.6 * _v + _xt) / 0.4
assert (_got - _ref).abs().max().item() < 1e-4, "the score on the linear path is wrong"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **The trained model's score against the truth.** Through your conversion, the flow model gives a
# score at every time, which we can compare with the exact score of $p_t$ (the error is measured on
# samples of $p_t$, relative to the size of the true score).

# %%
_times = [0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 0.95]
_rel = []
with torch.no_grad():
    for _tv in _times:
        _x0 = MIXTURE.sample(2000, torch.Generator().manual_seed(7)).float()
        _tt = torch.full((2000,), _tv)
        _xt = (1 - _tv) * _x0 + _tv * torch.randn(
            2000, 2, generator=torch.Generator().manual_seed(8)
        )
        _model = returned(
            velocity_to_score(teacher(_xt, _tt), _xt, *linear_path(_tt)), "q2b: velocity_to_score"
        )
        _exact = true_score(_xt, _tt).float()
        _rel.append(((_model - _exact).norm(dim=1).mean() / _exact.norm(dim=1).mean()).item())
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(_times, _rel, marker="o")
ax.set_xlabel("t")
ax.set_ylabel("relative score error")
ax.set_title("the flow model's implied score vs the exact score")
plt.show()

# %% [raw]
# # BEGIN QUESTION
# name: q2c
# manual: true
# points: 8

# %% [markdown]
# **Question 2c (written, 8 points).** (a) Using Questions 2a and 2b, write the marginal velocity of a
# Gaussian path in terms of the score:
# $v_t(x) = f_t\, x - \tfrac12 g_t^2 \nabla\log p_t(x)$, and give $f_t$ and $g_t^2$ in terms of
# $\alpha_t, \sigma_t$ and their derivatives. Explain why this is the probability-flow ODE of a
# diffusion SDE $dx = f_t x\,dt + g_t\,dW$ with the same marginals $p_t$. (b) Show that one DDIM step
# ($\eta = 0$) from $t$ to $s < t$, $x_s = \alpha_s \hat x_0 + \sigma_s \hat\varepsilon$, is **exactly**
# one Euler step $x_s = x_t + (s - t) v$ of the flow on the linear path.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# **Solution.** (a) From Question 2a, $v = \dot\alpha \hat x_0 + \dot\sigma\hat\varepsilon$ with
# $\hat x_0 = (x - \sigma\hat\varepsilon)/\alpha$, so
# $v = \frac{\dot\alpha}{\alpha} x + \left(\dot\sigma - \frac{\dot\alpha}{\alpha}\sigma\right)\hat\varepsilon$,
# and with $\hat\varepsilon = -\sigma\nabla\log p_t$ (Question 2b):
# $$v_t(x) = \frac{\dot\alpha_t}{\alpha_t} x - \left(\sigma_t\dot\sigma_t - \frac{\dot\alpha_t}{\alpha_t}\sigma_t^2\right)\nabla\log p_t(x),
# \qquad f_t = \frac{\dot\alpha_t}{\alpha_t},\quad g_t^2 = 2\sigma_t\dot\sigma_t - 2\frac{\dot\alpha_t}{\alpha_t}\sigma_t^2 = \alpha_t^2 \frac{d}{dt}\frac{\sigma_t^2}{\alpha_t^2}.$$
# The linear SDE $dx = f_t x\,dt + g_t dW$ started at $x_0$ has $x_t \mid x_0 \sim
# \mathcal N(\alpha_t x_0, \sigma_t^2 I)$ exactly when $\dot\alpha = f\alpha$ and
# $\frac{d}{dt}\sigma^2 = 2f\sigma^2 + g^2$, which these $f, g$ satisfy; so it has the marginals
# $p_t$. Its Fokker-Planck equation $\partial_t p = -\nabla\cdot(f x p) + \frac12 g^2\Delta p$ is the
# continuity equation with velocity $f x - \frac12 g^2\nabla\log p$ (since $\Delta p = \nabla\cdot(p\nabla\log p)$):
# the probability-flow ODE. The flow-matching field is that ODE's drift, so a flow model and a
# diffusion model (noise or score prediction) learn the same object, up to this linear change of
# variables ($g^2 \geq 0$ because $\sigma/\alpha$ increases along the path).
#
# (b) On the linear path $v = \varepsilon - x_0$ becomes $\hat v = \hat\varepsilon - \hat x_0$ with
# $x_t = (1-t)\hat x_0 + t\hat\varepsilon$ (the conversion is exact). Then
# $x_t + (s - t)\hat v = (1-t)\hat x_0 + t\hat\varepsilon + (s-t)\hat\varepsilon - (s-t)\hat x_0
# = (1-s)\hat x_0 + s\hat\varepsilon = \alpha_s\hat x_0 + \sigma_s\hat\varepsilon$, the DDIM step.
#
# Rubric (8 points):
# - 2 pts: $v$ in terms of $x$ and the score with $f_t = \dot\alpha/\alpha$ and $g_t^2 = 2\sigma\dot\sigma - 2(\dot\alpha/\alpha)\sigma^2$ (or an equivalent form).
# - 2 pts: the SDE with this drift and diffusion has the path's Gaussian marginals (mean and variance ODEs, or the transition kernel).
# - 1 pt: Fokker-Planck rewritten as a continuity equation whose velocity is the PF-ODE drift.
# - 3 pts: DDIM ($\eta = 0$) equals one Euler step on the linear path, with the algebra.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## Part 3. Integrating a flow
#
# Sampling integrates $dx/dt = v_\theta(x, t)$ from $x_1 \sim \mathcal N(0, I)$ at $t = 1$ to
# $t = 0$. **Euler** takes $x_{t'} = x_t + (t' - t)\,v(x_t, t)$ (one network evaluation per step).
# **Heun** (the trapezoid rule on an Euler prediction, second order) computes the Euler prediction
# $\tilde x = x_t + (t' - t)\,v(x_t, t)$, then
# $x_{t'} = x_t + (t' - t)\,\tfrac12\left(v(x_t, t) + v(\tilde x, t')\right)$ (two evaluations).

# %% [raw]
# # BEGIN QUESTION
# name: q3a
# points: 14

# %% [markdown]
# **Question 3a (code, 14 points).** Write `flow_step(velocity, x, t, t_next, method="euler")`: one
# step of the ODE from time `t` to time `t_next` (Python floats in $[0, 1]$, usually `t_next < t`),
# by Euler (`method="euler"`, the default) or Heun (`method="heun"`). `x` has shape `(B, D)`. Call the
# field as `velocity(x, tt)` with `tt` a tensor of shape `(B,)` and the dtype of `x` holding the time.
# Return the new `x`; raise a `ValueError` for any other method.

# %% [raw]
# # BEGIN SOLUTION


# %%
def flow_step(velocity, x, t, t_next, method="euler"):
    """One Euler or Heun step of dx/dt = velocity(x, t) from t to t_next."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q3a: write flow_step")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    if method not in ("euler", "heun"):
        raise ValueError(f"method must be 'euler' or 'heun', got {method!r}")
    now = torch.full((x.shape[0],), t, dtype=x.dtype, device=x.device)
    nxt = torch.full((x.shape[0],), t_next, dtype=x.dtype, device=x.device)
    dt = t_next - t
    v = velocity(x, now)
    if method == "heun":
        v = (v + velocity(x + dt * v, nxt)) / 2
    return x + dt * v
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

_x = torch.tensor([[1.0, 2.0], [3.0, -1.0], [0.0, 0.5]])
_const = lambda x, t: torch.ones_like(x) * torch.tensor([2.0, -1.0])
_out = flow_step(_const, _x, 1.0, 0.75)
assert _out.shape == _x.shape and _out.dtype == _x.dtype, "flow_step keeps the shape and dtype of x"
assert (_out - (_x - 0.25 * torch.tensor([2.0, -1.0]))).abs().max().item() < 1e-6, (
    "a constant field moves x by (t_next - t) times the field"
)

# %%
# HIDDEN
import torch

# v(x, t) = t x + 1, B = D = 2: Euler and Heun by hand; t arrives as a (B,) tensor of x's dtype.
_calls = []


def _field(x, tt):
    assert isinstance(tt, torch.Tensor) and tt.shape == (x.shape[0],) and tt.dtype == x.dtype, (
        "the field must receive t as a tensor of shape (B,) with the dtype of x"
    )
    _calls.append(tt[0].item())
    return tt[:, None] * x + 1


_x = torch.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=torch.float64)
_t, _tn = 0.8, 0.5
_h = _tn - _t
_v1 = _t * _x + 1
_euler = _x + _h * _v1
_heun = _x + _h * (_v1 + (_tn * _euler + 1)) / 2
for _method, _ref, _n in [("euler", _euler, 1), ("heun", _heun, 2)]:
    _ = _calls.clear()
    _got = flow_step(_field, _x, _t, _tn, method=_method)
    assert _got.dtype == torch.float64, "float64 in, float64 out"
    assert len(_calls) == _n, f"{_method} should evaluate the field {_n} time(s) per step"
    _err = (_got - _ref).abs().max().item()
    assert _err < 1e-12, (
        f"the {_method} step is off by {_err:.2g}: check the sign of the step, the times and "
        "the points at which the field is evaluated"
    )
_ = _calls.clear()
assert (flow_step(_field, _x, _t, _tn) - _euler).abs().max().item() < 1e-12, (
    "the default method should be Euler"
)

# %%
# HIDDEN
import torch

# Order: on Gaussian data the flow map is exact; doubling the steps halves Euler's error and
# quarters Heun's. float32 stays float32; x is left alone; unknown methods are refused.
_m, _S = torch.tensor([0.7, -1.2], dtype=torch.float64), 0.5


def _gauss(x, tt):
    a, s = (1 - tt)[:, None], tt[:, None]
    return -_m + (-a * _S**2 + s) / (a**2 * _S**2 + s**2) * (x - a * _m)


_z = torch.randn(16, 2, generator=torch.Generator().manual_seed(31), dtype=torch.float64)
for _method, _lo, _hi in [("euler", 1.6, 2.5), ("heun", 3.0, 5.0)]:
    _errs = []
    for _n in (8, 16, 32):
        _y = _z.clone()
        for _k in range(_n):
            _y = flow_step(_gauss, _y, 1 - _k / _n, 1 - (_k + 1) / _n, method=_method)
        _errs.append((_y - (_m + _S * _z)).abs().max().item())
    assert all(_lo < a / b < _hi for a, b in zip(_errs[:-1], _errs[1:], strict=True)), (
        f"{_method} does not converge at its order (errors {_errs}): check the step"
    )
_x = torch.randn(4, 2, generator=torch.Generator().manual_seed(32))
_copy = _x.clone()
_out = flow_step(lambda x, tt: x * tt[:, None], _x, 0.6, 0.2, method="heun")
assert _out.dtype == torch.float32, "float32 in, float32 out"
assert torch.equal(_x, _copy), "flow_step changed x in place"
_raised = None
try:
    _ = flow_step(lambda x, tt: x, _x, 0.6, 0.2, method="rk4")
except ValueError as _unknown_method_error:
    _raised = _unknown_method_error
assert _raised is not None, "an unknown method should raise a ValueError"

# %%
# HIDDEN
# Sampling check sized by the grading profile: GRADING_PROFILE is cpu on Gradescope (512
# samples: gross errors) and scale on the course's batch grader (65536 samples: the spread of
# the samples within a mode must match the reference's Heun to a few parts in a thousand).
# The field is the exact marginal velocity of the 2D mixture (the notebook's MIXTURE).
import os

import torch

# the grading runner defines GRADING_PROFILE for the tests; elsewhere the environment gives it
_profile = {
    "cpu": {"batch": 512, "max_mode_error": 0.08, "spread": [0.24, 0.285]},
    "scale": {"batch": 65536, "max_mode_error": 0.006, "spread": [0.2585, 0.2635]},
}[globals().get("GRADING_PROFILE") or os.environ.get("GRADING_PROFILE", "cpu")]
_means = torch.tensor([[-2.0, 1.5], [2.0, 1.5], [0.0, -2.0]], dtype=torch.float64)
_var0 = 0.25**2


def _exact(x, tt):
    a, s = (1 - tt)[:, None, None].double(), tt[:, None, None].double()
    var = a**2 * _var0 + s**2  # (B, 1, 1): each component's variance at time t
    diff = x.double()[:, None, :] - a * _means[None]  # (B, K, 2)
    resp = torch.softmax(-(diff**2).sum(-1) / (2 * var[..., 0]), dim=1)[..., None]
    x0 = _means[None] + a * _var0 / var * diff  # E[x0 | x_t, k]
    eps = s / var * diff  # E[eps | x_t, k]
    return (resp * (eps - x0)).sum(1).to(x.dtype)


_x = torch.randn(
    _profile["batch"], 2, generator=torch.Generator().manual_seed(2027), dtype=torch.float64
)
for _k in range(8):
    _x = flow_step(_exact, _x, 1 - _k / 8, 1 - (_k + 1) / 8, method="heun")
_mode = torch.cdist(_x, _means).argmin(1)
_mode_error = max(abs((_mode == _j).double().mean().item() - 1 / 3) for _j in range(3))
_spread = sum((_x[_mode == _j] - _means[_j]).std(0).mean().item() for _j in range(3)) / 3
assert _mode_error <= _profile["max_mode_error"], (
    f"8 Heun steps of the exact flow put the wrong share of samples in a mode (off by {_mode_error:.3f})"
)
_low, _high = _profile["spread"]
assert _low <= _spread <= _high, (
    f"8 Heun steps of the exact flow give samples whose spread within a mode is {_spread:.4f}, "
    f"outside [{_low}, {_high}]: check where and when the second evaluation is made"
)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **Sampling the trained model.** `sample` integrates from `Z_EVAL` with your steps. The table and
# the figure measure samples against the true data: the sliced Wasserstein distance to fresh data
# (fresh samples of the data are at 0.2 or so: the metric's noise) and the mean true log-density of the
# samples (the data's own value is printed first). Euler needs several steps; Heun gets there with
# fewer evaluations.


# %%
def sample(velocity, z, num_steps, method="euler", trajectory=False):
    """Integrate from z at t = 1 to t = 0 in num_steps equal steps (with the path if asked)."""
    xs = [z]
    with torch.no_grad():
        for k in range(num_steps):
            xs.append(
                returned(
                    flow_step(velocity, xs[-1], 1 - k / num_steps, 1 - (k + 1) / num_steps, method),
                    "q3a: flow_step",
                )
            )
    return torch.stack(xs) if trajectory else xs[-1]


def log_density(x):
    return true_log_density(x.double(), torch.zeros(len(x), dtype=torch.float64)).mean().item()


print(
    f"data: mean log-density {log_density(TRUTH):.2f}, sliced-W noise {min(FLOOR):.3f}-{max(FLOOR):.3f}"
)
print("method  NFE  sliced-W  log-density")
fig, axes = plt.subplots(1, 4, figsize=(12, 3), sharex=True, sharey=True)
for _ax, (_method, _n) in zip(
    axes, [("euler", 1), ("euler", 2), ("euler", 8), ("heun", 2)], strict=True
):
    _x = sample(teacher, Z_EVAL, _n, _method)
    _nfe = _n * (2 if _method == "heun" else 1)
    print(f"{_method:6s} {_nfe:4d}  {quality(_x):8.3f}  {log_density(_x):10.2f}")
    _ax.scatter(TRUTH[:, 0], TRUTH[:, 1], s=1, color="lightgray")
    _ax.scatter(_x[:1000, 0], _x[:1000, 1], s=1, color="C0")
    _ax.set_title(f"{_method}, {_n} step(s): {_nfe} NFE")
    _ax.set_xlim(-4, 4)
    _ax.set_ylim(-4, 4)
plt.show()

# %% [markdown]
# ## Part 4. Reflow
#
# The marginal flow's paths do not cross, but they curve, so Euler with few steps cuts corners (one
# step from $t = 1$ lands on the data mean: $v_1(x) = x - \mathbb E[x_0]$). **Reflow** (Liu et al.,
# 2023) samples pairs $(\hat x_0, z)$ joined by the trained flow and trains a new flow by the same CFM
# loss on these *coupled* pairs instead of independent ones. We measure straightness as
# $S = \int_0^1 \mathbb E\lVert (x_0 - x_1) - \dot x_t\rVert^2 dt$ (zero exactly when every path is a
# straight line travelled at constant speed), on a trajectory from `sample(..., trajectory=True)`.

# %% [raw]
# # BEGIN QUESTION
# name: q4a
# points: 10

# %% [markdown]
# **Question 4a (code, 10 points).** Write `straightness(trajectory)`. `trajectory` has shape
# `(N + 1, B, D)`: the states at $N + 1$ equally spaced times from $t = 1$ (index 0) to $t = 0$
# (index $N$), as `sample(..., trajectory=True)` returns them. Estimate the integral by the rectangle
# rule with the step velocities: over each of the $N$ steps the path moves with velocity
# $(x_{k+1} - x_k)/(1/N)$ (per unit of time, in the direction of travel), the straight line with the
# end-to-end velocity $x_N - x_0$. Return a 0-dimensional tensor: the mean over the steps and the
# batch of the squared Euclidean norm (summed over the $D$ coordinates) of their difference.

# %% [raw]
# # BEGIN SOLUTION


# %%
def straightness(trajectory):
    """Mean over steps and samples of ||N (x_{k+1} - x_k) - (x_N - x_0)||^2."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q4a: write straightness")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    n = trajectory.shape[0] - 1
    steps = (trajectory[1:] - trajectory[:-1]) * n  # (N, B, D)
    overall = trajectory[-1] - trajectory[0]  # (B, D)
    return ((steps - overall) ** 2).sum(-1).mean()
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

_s = torch.linspace(0, 1, 11)
_line = torch.stack([1 - 3 * _s, 2 * _s], dim=1)[:, None, :]  # (11, 1, 2)
_out = straightness(_line)
assert isinstance(_out, torch.Tensor) and _out.dim() == 0, "straightness returns a 0-d tensor"
assert abs(_out.item()) < 1e-8, "a straight line at constant speed has straightness 0"

# %%
# HIDDEN
import math

import torch

# Two quarter-circle arcs of different radii (B = D = 2) and one step count: exact rectangle rule.
_N = 6
_s = torch.linspace(0, 1, _N + 1, dtype=torch.float64)
_arc = torch.stack([torch.cos(math.pi / 2 * _s), torch.sin(math.pi / 2 * _s)], dim=1)  # (N+1, 2)
_traj = torch.stack(
    [_arc, 3 * _arc.flip(1) + torch.tensor([1.0, -1.0], dtype=torch.float64)], dim=1
)
_ref = 0.0
for _b in range(2):
    for _k in range(_N):
        _d = _N * (_traj[_k + 1, _b] - _traj[_k, _b]) - (_traj[_N, _b] - _traj[0, _b])
        _ref += (_d**2).sum().item() / (_N * 2)
_got = straightness(_traj)
assert _got.dtype == torch.float64, "float64 in, float64 out"
assert abs(_got.item() - _ref) < 1e-12, (
    "wrong value on two circular arcs: check the step velocity (scaled by the number of "
    "steps), the end-to-end velocity, the squared norm over coordinates and the mean over "
    "steps and samples"
)

# %%
# HIDDEN
import math

import torch

# Converges to the integral: a quarter circle at constant speed has S = pi^2 / 4 - 2. Different
# paths per sample (shape (N + 1, 3, 3)); the trajectory is left alone; one step is a line.
_s = torch.linspace(0, 1, 2001, dtype=torch.float64)
_arc = torch.stack([torch.cos(math.pi / 2 * _s), torch.sin(math.pi / 2 * _s), 0 * _s], dim=1)
_traj = torch.stack([_arc, 2 * _arc, _arc * 0 + _s[:, None]], dim=1)  # (2001, 3, 3)
_copy = _traj.clone()
_ref = (math.pi**2 / 4 - 2) * (1 + 4 + 0) / 3
assert abs(straightness(_traj).item() - _ref) < 1e-4, (
    "straightness should approach the integral of the squared deviation from the chord"
)
assert torch.equal(_traj, _copy), "straightness changed the trajectory in place"
_two = _traj[[0, -1]]
assert abs(straightness(_two).item()) < 1e-12, "a single step is a straight line"
_f = straightness(_traj.float())
assert _f.dtype == torch.float32, "float32 in, float32 out"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **One round of reflow.** The teacher's Heun sampler (20 steps) makes 4000 pairs $(\hat x_0, z)$;
# the 2-rectified flow starts from the teacher's weights and is trained with your `cfm_loss` on the
# pairs (about 5 seconds). The figure shows both flows' paths with their straightness, and one Euler
# step of each.

# %%
_g = torch.Generator().manual_seed(9)
with torch.no_grad():
    _pair_z = torch.randn(4000, 2, generator=_g)
    _pair_x0 = sample(teacher, _pair_z, 20, "heun")


def _reflow_batch(step):
    idx = torch.randint(0, 4000, (256,), generator=_g)
    t = torch.rand(256, generator=_g)
    return returned(cfm_loss(rectified, _pair_x0[idx], _pair_z[idx], t), "q1b: cfm_loss")


rectified = FlowNet(seed=1)
rectified.load_state_dict(teacher.state_dict())
_start = time.process_time()
train(rectified, _reflow_batch, steps=500, lr=1e-3)
print(f"reflow trained in {time.process_time() - _start:.1f} s of CPU")
fig, axes = plt.subplots(1, 3, figsize=(11, 3.5), sharex=True, sharey=True)
for _ax, (_name, _net) in zip(
    axes[:2], [("teacher (1-rectified)", teacher), ("2-rectified", rectified)], strict=True
):
    _traj = sample(_net, Z_EVAL[:500], 32, trajectory=True)
    for _i in range(120):
        _ax.plot(_traj[:, _i, 0], _traj[:, _i, 1], color="C0", lw=0.5)
    _s = returned(straightness(_traj), "q4a: straightness")
    _ax.set_title(f"{_name}: straightness {_s.item():.3f}")
axes[2].scatter(TRUTH[:, 0], TRUTH[:, 1], s=1, color="lightgray")
for _name, _net, _c in [("teacher", teacher, "C3"), ("2-rectified", rectified, "C2")]:
    _one = sample(_net, Z_EVAL[:1000], 1)
    axes[2].scatter(_one[:, 0], _one[:, 1], s=2, color=_c, label=f"{_name}, 1 Euler step")
axes[2].legend(fontsize=7)
for _ax in axes:
    _ax.set_xlim(-4, 4)
    _ax.set_ylim(-4, 4)
plt.show()

# %% [raw]
# # BEGIN QUESTION
# name: q4b
# manual: true
# points: 8

# %% [markdown]
# **Question 4b (written, 8 points).** (a) Why does one Euler step of the teacher from $t = 1$ land
# every sample on (nearly) the same point? (b) Explain why reflow straightens the paths: what is
# different about the pairs it trains on, and why is the flow learned from a coupling whose straight
# interpolations do not cross itself straight? (c) Why is one round not perfectly straight in
# practice, and what does reflow cost?

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# **Solution.** (a) At $t = 1$, $x_1 = \varepsilon$ is independent of $x_0$, so
# $v_1(x) = \mathbb E[\varepsilon - x_0 \mid x_1 = x] = x - \mathbb E[x_0]$; one Euler step of size 1
# gives $x - v_1(x) = \mathbb E[x_0]$ for every $x$: the data mean, between the modes.
#
# (b) With independent pairs, straight lines through a point $x$ at time $t$ come from many pairs with
# different directions; the marginal velocity averages them, and the resulting paths bend (they
# cannot cross, so they curve around each other). Reflow's pairs $(\hat x_0, z)$ are the endpoints of
# the flow's own, non-crossing paths: a deterministic coupling. If the straight interpolations
# $(1-t)\hat x_0 + tz$ of this coupling do not intersect, each point $x_t$ is reached by one pair
# only, so $\mathbb E[z - \hat x_0 \mid x_t] = z - \hat x_0$: the new marginal velocity is constant
# along each line, and its flow follows the straight lines exactly (straightness 0; one Euler step is
# exact). Liu et al. show in general that rectification never increases any convex transport cost
# $\mathbb E[c(z - \hat x_0)]$ and that the straightness decreases with the rounds.
#
# (c) The straight interpolations of the first coupling still intersect somewhat, and the new network
# is trained on finitely many pairs with a finite budget, so its field is not exactly constant along
# the lines. Costs: simulating the teacher's ODE for every pair (many evaluations each), a second
# training, and errors that accumulate: the 2-rectified flow's samples can only be as good as the
# teacher's samples it was trained on.
#
# Rubric (8 points):
# - 2 pts: (a) $v_1(x) = x - \mathbb E[x_0]$ from independence at $t = 1$, so one step gives the mean.
# - 4 pts: (b) independent pairs give crossing lines and an averaged, curved field; reflow's pairs come from non-crossing paths; a coupling without intersecting interpolations has a velocity constant along each line, hence straight paths.
# - 2 pts: (c) one reason the result is not exactly straight and one cost (simulation, retraining, error accumulation).

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## Part 5. Few-step generation: progressive distillation
#
# **Progressive distillation** (Salimans and Ho, 2022) trains a student to do in **one** step what its
# teacher does in **two**. For a flow, a student step of size $h$ from $x_t$ is an Euler step with the
# student's velocity; its target is the constant velocity that lands where the teacher's two Euler
# steps of size $h/2$ land. When the student matches it, the student with $N$ steps samples what the
# teacher samples with $2N$; the student becomes the next teacher and the rounds go 16, 8, 4, 2, 1.

# %% [raw]
# # BEGIN QUESTION
# name: q5a
# points: 14

# %% [markdown]
# **Question 5a (code, 14 points).** Write `progressive_distillation_target(teacher, x_t, t, step)`.
# `x_t` has shape `(B, D)`, `t` is a float tensor `(B,)` (each sample's time, with `t - step >= 0`)
# and `step` a positive Python float, the student's step size. Take two Euler steps of the teacher's
# field, from `t` to `t - step / 2` and on to `t - step` (call it as `teacher(x, tt)` with `tt` of
# shape `(B,)`), and return the velocity $v^*$ such that the student's single Euler step
# $x_t - \text{step}\cdot v^*$ lands at the same point. The target is a fixed label: no gradient may
# flow through it into the teacher's parameters.

# %% [raw]
# # BEGIN SOLUTION


# %%
def progressive_distillation_target(teacher, x_t, t, step):
    """The velocity of one student step that matches two Euler steps of the teacher."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q5a: write progressive_distillation_target")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    half = step / 2
    with torch.no_grad():
        x_mid = x_t - half * teacher(x_t, t)
        x_end = x_mid - half * teacher(x_mid, t - half)
    return (x_t - x_end) / step
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

_x = torch.tensor([[1.0, 2.0], [3.0, -1.0], [0.0, 0.5]])
_const = lambda x, tt: torch.ones_like(x) * 2.0
_out = progressive_distillation_target(_const, _x, torch.tensor([1.0, 0.5, 0.5]), 0.5)
assert _out.shape == _x.shape and _out.dtype == _x.dtype, (
    "the target has the shape and dtype of x_t"
)
assert (_out - 2.0).abs().max().item() < 1e-6, "for a constant teacher the target is that constant"

# %%
# HIDDEN
import torch

# Teacher v(x, t) = t x + 1, B = D = 2, one time per sample: two Euler steps by hand.
_x = torch.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=torch.float64)
_t = torch.tensor([1.0, 0.5], dtype=torch.float64)
_step = 0.25
_h = _step / 2
_field = lambda x, tt: tt[:, None] * x + 1
_mid = _x - _h * (_t[:, None] * _x + 1)
_end = _mid - _h * ((_t - _h)[:, None] * _mid + 1)
_ref = (_x - _end) / _step
_got = progressive_distillation_target(_field, _x, _t, _step)
assert _got.dtype == torch.float64, "float64 in, float64 out"
_err = (_got - _ref).abs().max().item()
assert _err < 1e-12, (
    f"the target is off by {_err:.2g}: check the size of the two teacher steps, the time of "
    "the second one, the point where it is evaluated and the sign of the returned velocity"
)

# %%
# HIDDEN
import torch

# A distilled student reproduces its teacher with half the steps: with the target as the student,
# 2 Euler steps of it equal 4 Euler steps of a nonlinear teacher.
_teacher = lambda x, tt: torch.sin(3 * x) * (1 + tt[:, None]) - x.flip(1)
_z = torch.randn(8, 2, generator=torch.Generator().manual_seed(41), dtype=torch.float64)


def _euler(field, x, n):
    for k in range(n):
        tt = torch.full((x.shape[0],), 1 - k / n, dtype=x.dtype)
        x = x - field(x, tt) / n
    return x


_student = lambda x, tt: progressive_distillation_target(_teacher, x, tt, 0.5)
_err = (_euler(_student, _z, 2) - _euler(_teacher, _z, 4)).abs().max().item()
assert _err < 1e-12, (
    "a student equal to the target should sample in 2 steps what the teacher does in 4"
)

# %%
# HIDDEN
import torch

# No gradient into the teacher; a batch of one; float32; x_t and t left alone.
_net = torch.nn.Linear(2, 2)
_teacher = lambda x, tt: _net(x) * tt[:, None]
for _B in (1, 3):
    _x = torch.randn(_B, 2, generator=torch.Generator().manual_seed(42))
    _t = torch.full((_B,), 0.75)
    _copies = (_x.clone(), _t.clone())
    _out = progressive_distillation_target(_teacher, _x, _t, 0.5)
    assert _out.shape == (_B, 2) and _out.dtype == torch.float32, (
        "shape (batch of one too) and dtype of x_t"
    )
    assert not _out.requires_grad, "the target must not carry a graph into the teacher"
    assert torch.equal(_x, _copies[0]) and torch.equal(_t, _copies[1]), (
        "an argument was changed in place"
    )

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **Four rounds of distillation** from the teacher's 16-step Euler sampler: 8, 4, 2 and 1 steps,
# each student starting from its teacher's weights (about 15 seconds). Each round trains on the times
# of its own grid, $t \in \{h, 2h, \dots, 1\}$.

# %%
_g = torch.Generator().manual_seed(10)
students = {}
_parent, _n = teacher, 16
_start = time.process_time()
while _n > 1:
    _n //= 2
    _student = FlowNet(seed=_n)
    _student.load_state_dict(_parent.state_dict())

    def _distill_batch(step, student=_student, parent=_parent, n=_n):
        x0 = MIXTURE.sample(256, _g).float()
        t = torch.randint(1, n + 1, (256,), generator=_g).float() / n
        x_t = (1 - t)[:, None] * x0 + t[:, None] * torch.randn(256, 2, generator=_g)
        target = returned(
            progressive_distillation_target(parent, x_t, t, 1 / n),
            "q5a: progressive_distillation_target",
        )
        return torch.mean((student(x_t, t) - target) ** 2)

    train(_student, _distill_batch, steps=250, lr=5e-4)
    students[_n], _parent = _student, _student
print(f"distilled in {time.process_time() - _start:.1f} s of CPU")

# %% [markdown]
# **The few-step table and the quality-vs-evaluations plot.** DDPM and DDIM run on the *same*
# teacher, turned into data and noise predictions by your `velocity_to_x0_eps`: DDIM with $\eta = 0$
# takes $x_s = \alpha_s\hat x_0 + \sigma_s\hat\varepsilon$; DDPM draws $x_s$ from the Gaussian
# posterior $q(x_s \mid x_t, \hat x_0)$ of the linear path. Lower is better down to the gray band,
# the distance of fresh data samples: below it the metric cannot rank samplers.


# %%
def diffusion_sample(velocity, z, num_steps, stochastic, seed=0):
    """DDIM (stochastic=False) or DDPM (ancestral) on the linear path, from a velocity model."""
    g = torch.Generator().manual_seed(seed)
    x = z
    with torch.no_grad():
        for k in range(num_steps):
            t, s = 1 - k / num_steps, 1 - (k + 1) / num_steps
            tt = torch.full((len(x),), t, dtype=x.dtype)
            x0_hat, eps_hat = returned(
                velocity_to_x0_eps(velocity(x, tt), x, *linear_path(tt)), "q2a: velocity_to_x0_eps"
            )
            if not stochastic or s == 0:
                x = (1 - s) * x0_hat + s * eps_hat
                continue
            # x_t | x_s = (a_t / a_s) x_s + N(0, c^2), c^2 = sigma_t^2 - (a_t / a_s)^2 sigma_s^2
            r = (1 - t) / (1 - s)
            c2 = t**2 - r**2 * s**2
            var = 1 / (1 / s**2 + r**2 / c2)
            mean = var * ((1 - s) * x0_hat / s**2 + r * x / c2)
            x = mean + math.sqrt(var) * torch.randn(x.shape, generator=g, dtype=x.dtype)
    return x


_nfes = [1, 2, 4, 8, 16]
curves = {
    "DDPM": [(k, quality(diffusion_sample(teacher, Z_EVAL, k, True))) for k in _nfes],
    "DDIM": [(k, quality(diffusion_sample(teacher, Z_EVAL, k, False))) for k in _nfes],
    "flow, Euler": [(k, quality(sample(teacher, Z_EVAL, k))) for k in _nfes],
    "flow, Heun": [(2 * k, quality(sample(teacher, Z_EVAL, k, "heun"))) for k in (1, 2, 4, 8)],
    "2-rectified, Euler": [(k, quality(sample(rectified, Z_EVAL, k))) for k in _nfes],
    "distilled student": [(k, quality(sample(students[k], Z_EVAL, k))) for k in (1, 2, 4, 8)],
}
print(f"sliced Wasserstein to the data (noise band {min(FLOOR):.3f}-{max(FLOOR):.3f})")
print(f"{'steps':>22s}" + "".join(f"{k:>8d}" for k in (1, 2, 4, 8)))
for _name in ("flow, Euler", "2-rectified, Euler", "distilled student"):
    _row = dict(curves[_name])
    print(f"{_name:>22s}" + "".join(f"{_row[k]:8.3f}" for k in (1, 2, 4, 8)))
fig, ax = plt.subplots(figsize=(6, 3.8))
for (_name, _pts), _marker in zip(curves.items(), "osd^vx", strict=True):
    ax.plot([p[0] for p in _pts], [p[1] for p in _pts], marker=_marker, label=_name)
ax.axhspan(min(FLOOR), max(FLOOR), color="gray", alpha=0.25, label="fresh data (metric noise)")
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xlabel("network evaluations per sample")
ax.set_ylabel("sliced Wasserstein to the data")
ax.legend(fontsize=7)
plt.show()

# %% [raw]
# # BEGIN QUESTION
# name: q5b
# manual: true
# points: 8

# %% [markdown]
# **Question 5b (written, 8 points).** Read the plot and the table. (a) Why do the DDIM and the flow
# Euler curves coincide? How does DDPM compare at 1, 2 and 16 steps, and what can the plot not tell
# about methods whose distances lie in the gray band? (b) Compare the distilled student
# and the 2-rectified flow at 1 step with the teacher at 1 and at 8 steps: what does each method buy,
# and what does it cost (training, evaluations, what limits its quality)? (c) Progressive
# distillation can never beat its teacher's 16-step sampler. Why, and what would you change to do
# better with the same budget?

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# **Solution.** (a) On the linear path one DDIM step with $\eta = 0$ is algebraically one Euler step
# of the flow (Question 2c(b)), and both use the same network, so the curves are the same up to
# rounding. At 1 step DDPM is identical too (its last step is deterministic: it returns
# $\hat x_0 = \mathbb E[x_0 \mid x_1]$, the data mean). At 2 steps it is no better: its first step
# draws from $q(x_s \mid x_t, \hat x_0)$ with the blurred $\hat x_0$, ignoring the posterior spread
# of $x_0$. With more steps its fresh noise corrects earlier errors (a stochastic sampler contracts
# them) and it reaches the band at 8-16 steps, here about as well as the ODE samplers (measured:
# 1.60 / 0.54 / 0.22 / 0.17 / 0.14 at 1 / 2 / 4 / 8 / 16 steps, against 1.60 / 0.51 / 0.22 / 0.20 /
# 0.21 for DDIM). Inside the gray band differences are of the size of the metric's own noise
# (mostly how many samples each mode receives): the plot cannot rank those samplers; more
# samples, repeated seeds or sharper tests (the exact log-density, the mode shares) would.
#
# (b) The teacher at 1 step outputs (nearly) the data mean: very poor. The 2-rectified flow and the
# distilled student at 1 step are close to the teacher at 8 steps (and inside the gray band): an 8x to 16x
# cheaper sampler. Reflow costs a dataset of simulated pairs and a retraining, keeps a full flow
# (more steps still help a little) and inherits the teacher's sample error; distillation costs one
# training per halving, gives a model specialised to its grid (more steps do not help) and inherits
# the error of its teacher's 16-step sampler plus each round's fitting error.
#
# (c) Every round's target is its teacher's two-step result: at best the student reproduces the
# 16-step Euler sampler of the original teacher, discretisation error included, plus the fitting
# errors of four rounds. To do better: distil from a more accurate teacher sampler (Heun, more steps
# in the first round), start from a straighter flow (reflow first, then distil), train longer on the
# later rounds, or use a consistency objective that targets the ODE's exact endpoint.
#
# Rubric (8 points):
# - 2 pts: (a) DDIM = Euler on the linear path; DDPM equals it at 1 step, is no better at 2 and catches up with more steps (read from the plot); differences inside the band are metric noise.
# - 3 pts: (b) compares 1-step quality with the teacher's 1 and 8 steps using the measured numbers, and names one cost or limit of each method.
# - 3 pts: (c) the target chain is bounded by the teacher's sampler (and accumulated fitting error); one sensible improvement.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION
