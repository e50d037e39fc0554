# %% [raw]
# # ASSIGNMENT CONFIG
# name: ps2

# %% [markdown]
# # Problem set 2: scores, Langevin, ODEs and fast sampling
#
# **DIFF 480, Diffusion Models, from Noise to Data.** Released after lecture 5; due two weeks later (see the course site for the exact dates).
#
# In problem set 1 you trained a network to predict the noise $\epsilon$ that was added to a data point. This problem set looks at the same object from three other angles:
#
# 1. **Scores.** The noise predictor is, up to a scale, the *score* $\nabla_x \log p_t(x)$ of the noised data distribution, and the score gives the best denoiser in closed form (Tweedie's formula). You will compute the exact score of a Gaussian mixture under noising, so that the rest of the problem set can run samplers with a perfect "model" and no training.
# 2. **Langevin dynamics.** A score alone is enough to sample: you will implement Langevin dynamics, see it fail on well-separated modes, and fix it by annealing the noise level.
# 3. **ODEs and fast sampling.** Sampling can be made deterministic: the probability-flow ODE. You will solve it with Euler's and Heun's methods, measure their order of convergence, implement DDIM with its timestep spacings, and compare the quality of the samples against the number of model evaluations.
#
# | Part | Topic | Questions | Points |
# | --- | --- | --- | --- |
# | 1 | Scores and Tweedie's formula | Q1 (written), Q2 (written), Q3, Q4 | 29 |
# | 2 | Langevin dynamics | Q5 (written), Q6a, Q6b, Q7 | 21 |
# | 3 | ODEs and fast sampling | Q8a, Q8b, Q8c, Q9 (written), Q10, Q11a, Q11b, Q12 (written), Q13 (written) | 50 |
# | | | **Total** | **100** |
#
# Written questions are worth 34 points, code questions 66 points.
#
# **How this problem set is graded (100 points).**
#
# - *Written questions* (marked **[written]**): type your answer, with the math in LaTeX, in the answer cell below the question. They are graded by hand from the PDF you submit.
# - *Coding questions* (marked **[autograded]**): write the function in the cell provided, keeping its name and signature. `grader.check("q3")` runs a few **public** tests that check shapes, dtypes and simple limits. **Passing them does not mean your answer is right**: hidden tests, run on Gradescope after the deadline, decide most of the points of each coding question. Test your functions yourself (the figures help).
# - *Experiments* (marked **[written, code]**): you write a short piece of code that makes a figure, then interpret the figure in words. Graded by hand from the PDF.
# - *A bug costs only its own function's points.* When the hidden tests of a question call other functions of yours (the ODE sampler calls your Euler and Heun steps, for instance), the grader gives them the reference implementation of those functions, so a mistake in one function is not charged again in every question that builds on it.
#
# **Submitting and collaboration.** The section *Submitting* at the end of the notebook says what to upload where, with the course's collaboration and AI-use rules. The autograder runs your notebook top to bottom, so make sure it runs without errors from a fresh kernel, in well under a minute.

# %%
# Initialize Otter, the grading client
import otter

grader = otter.Notebook("ps2.ipynb")

# %% [markdown]
# ## 0. Conventions and given code
#
# Read this section carefully: every function you write follows these conventions, and the hidden tests check them.
#
# **Index convention.** Time is discrete and 0-based: $t \in \{0, 1, \dots, T-1\}$ with $T = 1000$. A schedule is a vector `betas` of length $T$; $\alpha_t = 1 - \beta_t$ and
# $$\bar\alpha_t = \prod_{s=0}^{t} \alpha_s \qquad (\texttt{alphas\_cumprod[t]}).$$
# The noised sample at step $t$ is $x_t = \sqrt{\bar\alpha_t}\, x_0 + \sqrt{1 - \bar\alpha_t}\,\epsilon$ with $\epsilon \sim \mathcal N(0, I)$. We also define $\bar\alpha_{-1} := 1$ (no noise at all): "step $-1$" is the clean data. Careful: in Python, `alphas_cumprod[-1]` is $\bar\alpha_{T-1}$, the *noisiest* step, not $\bar\alpha_{-1}$. Whenever a timestep can be $-1$, handle it explicitly.
#
# **The noise-to-signal ratio.** We write
# $$\sigma_t = \sqrt{\frac{1 - \bar\alpha_t}{\bar\alpha_t}}, \qquad \bar\alpha_t = \frac{1}{1 + \sigma_t^2},$$
# so that $y_t := x_t / \sqrt{\bar\alpha_t} = x_0 + \sigma_t\,\epsilon$. Part 3 works in these $(y, \sigma)$ coordinates.
#
# **Tensors.** A batch of data is a tensor whose first dimension is the batch size $B$: shape $(B, D)$ for points in $\mathbb R^D$, or $(B, C, H, W)$ for images. A per-sample quantity (a timestep, an $\bar\alpha$ or a $\sigma$) is a tensor of shape $(B,)$, one value per sample; timesteps are `torch.long`. To combine a per-sample coefficient `c` of shape $(B,)$ with `x` of shape $(B, D)$, reshape it to $(B, 1)$ first (or to $(B, 1, 1, 1)$ for images): `c * x` with `c` of shape $(B,)$ broadcasts along the *last* axis, which is wrong, and raises no error when $B = D$.
#
# **dtype.** Your functions must work in the dtype of their inputs: float64 in gives float64 out (and float64 accuracy), float32 in gives float32 out. Do not call `.float()` or create tensors without `dtype=` / `device=` matching the input.
#
# **Randomness.** Functions that take one random step receive their noise as an argument. Whole samplers receive a `torch.Generator` and must draw *all* their random numbers from it, e.g. `torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)`.

# %%
import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch

# Small 2D problems run faster on one thread than on many.
torch.set_num_threads(1)

T = 1000
betas = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)  # the linear schedule of DDPM
alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)  # abar_t for t = 0..T-1, shape (T,)
print(f"abar_0 = {alphas_cumprod[0]:.6f}, abar_(T-1) = {alphas_cumprod[-1]:.2e}")


# %% [markdown]
# **Gaussian mixtures.** A Gaussian mixture in $\mathbb R^D$ with $K$ components has density
# $$p(x) = \sum_{k=1}^K w_k\, \mathcal N(x;\, \mu_k, \Sigma_k), \qquad w_k > 0,\ \sum_k w_k = 1.$$
# The class below stores `means` $(K, D)$, `covs` $(K, D, D)$ and `weights` $(K,)$, and draws samples. Your code may only use these three attributes of a mixture (the tests pass their own mixture objects).


# %%
@dataclass
class GaussianMixture:
    means: torch.Tensor  # (K, D)
    covs: torch.Tensor  # (K, D, D), symmetric positive definite
    weights: torch.Tensor  # (K,), positive, sums to 1

    def sample(self, n, generator):
        # Pick a component per sample, then add correlated noise L z with Sigma_k = L L^T.
        k = torch.multinomial(self.weights, n, replacement=True, generator=generator)  # (n,)
        z = torch.randn(n, self.means.shape[1], generator=generator, dtype=self.means.dtype)
        L = torch.linalg.cholesky(self.covs)  # (K, D, D)
        return self.means[k] + (L[k] @ z.unsqueeze(-1)).squeeze(-1)  # (n, D)


def ring_mixture(K=6, radius=3.0, dtype=torch.float64):
    # K anisotropic components on a circle, elongated along the circle, unequal weights.
    angles = 2 * math.pi * torch.arange(K, dtype=dtype) / K
    means = radius * torch.stack([angles.cos(), angles.sin()], dim=1)  # (K, 2)
    tangents = torch.stack([-angles.sin(), angles.cos()], dim=1)  # (K, 2)
    normals = means / radius
    covs = 0.30**2 * tangents[:, :, None] * tangents[:, None, :]
    covs = covs + 0.08**2 * normals[:, :, None] * normals[:, None, :]  # (K, 2, 2)
    weights = torch.arange(1, K + 1, dtype=dtype) % 3 + 1.0
    return GaussianMixture(means, covs, weights / weights.sum())


mixture = ring_mixture()
data = mixture.sample(2000, torch.Generator().manual_seed(0))  # (2000, 2)

fig, ax = plt.subplots(figsize=(4, 4))
ax.scatter(data[:, 0], data[:, 1], s=2, alpha=0.5)
ax.set_aspect("equal")
ax.set_title("2000 samples of the ring mixture")
plt.show()


# %% [markdown]
# **Comparing two point clouds.** To measure how close generated samples are to the data we use the *maximum mean discrepancy* (MMD) with a Gaussian kernel $k(a, b) = \exp\!\big(-\|a - b\|^2 / (2h^2)\big)$, $h = 0.25$:
# $$\operatorname{MMD}(x, y)^2 = \operatorname{mean}_{i,j}\, k(x_i, x_j) + \operatorname{mean}_{i,j}\, k(y_i, y_j) - 2\operatorname{mean}_{i,j}\, k(x_i, y_j).$$
# It is $0$ when the two clouds coincide and grows as they differ in shape or in how much mass each mode holds. Two independent samples of the same distribution give a small positive value, the *noise floor* of the measurement, printed below: differences below it are invisible.


# %%
def mmd(x, y, bandwidth=0.25):
    # x: (n, D), y: (m, D). Returns a float (the biased estimate of the MMD).
    def kernel_mean(a, b):
        # mean of exp(-|a_i - b_j|^2 / (2 h^2)) over all pairs, 500 rows at a time (memory)
        total = 0.0
        for i in range(0, a.shape[0], 500):
            d2 = torch.cdist(a[i : i + 500].float(), b.float()) ** 2
            total += torch.exp(-d2 / (2 * bandwidth**2)).sum().item()
        return total / (a.shape[0] * b.shape[0])

    mmd2 = kernel_mean(x, x) + kernel_mean(y, y) - 2 * kernel_mean(x, y)
    return max(mmd2, 0.0) ** 0.5


reference_data = mixture.sample(2000, torch.Generator().manual_seed(1))
noise_floor = mmd(data, reference_data)
print(f"MMD between two independent samples of 2000 points of the mixture: {noise_floor:.3f}")


# %% [markdown]
# ---
# ## Part 1. Scores and Tweedie's formula
#
# The **score** of a density $p$ is $\nabla_x \log p(x)$: a vector field that points towards regions of higher density. Write $p_t$ for the density of $x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\epsilon$ when $x_0 \sim p_{\text{data}}$ and $\epsilon \sim \mathcal N(0, I)$ are independent.

# %% [raw]
# # BEGIN QUESTION
# name: q1
# manual: true
# points: 8

# %% [markdown]
# ### Question 1 [written, 8 points]: Tweedie's formula
#
# Let $x_t = \sqrt{\bar\alpha}\,x_0 + \sqrt{1-\bar\alpha}\,\epsilon$ with $x_0 \sim p_{\text{data}}$ (any distribution with a density) and $\epsilon \sim \mathcal N(0, I)$ independent, and let $p_t$ be the density of $x_t$. Prove **Tweedie's formula**
# $$\mathbb E[x_0 \mid x_t] = \frac{x_t + (1 - \bar\alpha)\,\nabla_{x_t} \log p_t(x_t)}{\sqrt{\bar\alpha}}.$$
#
# *Hint:* write $p_t(x_t) = \int p_{\text{data}}(x_0)\, q(x_t \mid x_0)\, dx_0$, differentiate under the integral sign, and compute $\nabla_{x_t} q(x_t \mid x_0)$ for the Gaussian $q(x_t\mid x_0)$. Then explain in one or two sentences why this formula says that a good score model is also a good denoiser.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# **Solution.** The conditional density is $q(x_t \mid x_0) = \mathcal N(x_t;\ \sqrt{\bar\alpha}\,x_0,\ (1-\bar\alpha) I)$, so
# $$\nabla_{x_t} q(x_t \mid x_0) = -\frac{x_t - \sqrt{\bar\alpha}\,x_0}{1 - \bar\alpha}\; q(x_t \mid x_0).$$
# Differentiating $p_t(x_t) = \int p_{\text{data}}(x_0)\, q(x_t\mid x_0)\,dx_0$ under the integral,
# $$\nabla p_t(x_t) = \int p_{\text{data}}(x_0)\, q(x_t\mid x_0)\, \frac{\sqrt{\bar\alpha}\,x_0 - x_t}{1-\bar\alpha}\, dx_0 .$$
# Divide by $p_t(x_t)$ and use Bayes' rule $p(x_0 \mid x_t) = p_{\text{data}}(x_0)\,q(x_t\mid x_0)/p_t(x_t)$:
# $$\nabla \log p_t(x_t) = \frac{\nabla p_t(x_t)}{p_t(x_t)} = \int p(x_0\mid x_t)\,\frac{\sqrt{\bar\alpha}\,x_0 - x_t}{1-\bar\alpha}\,dx_0 = \frac{\sqrt{\bar\alpha}\,\mathbb E[x_0\mid x_t] - x_t}{1 - \bar\alpha}.$$
# Solving for the conditional mean gives $\mathbb E[x_0\mid x_t] = \big(x_t + (1-\bar\alpha)\nabla\log p_t(x_t)\big)/\sqrt{\bar\alpha}$.
#
# Interpretation: the posterior mean $\mathbb E[x_0 \mid x_t]$ is the denoiser with the smallest mean squared error. Tweedie's formula computes it from the score of the *noised* density alone, without knowing $p_{\text{data}}$: an accurate score model therefore gives the optimal denoiser, and conversely training a denoiser (with the squared loss) trains a score model.
#
# Rubric (8 points):
# - 2 pts: correct Gaussian gradient $\nabla_{x_t} q(x_t\mid x_0) = -\frac{x_t - \sqrt{\bar\alpha}x_0}{1-\bar\alpha} q$ (sign and scale).
# - 2 pts: differentiates under the integral and divides by $p_t$ (states or uses that this is allowed).
# - 2 pts: recognizes the posterior $p(x_0 \mid x_t)$ via Bayes' rule and obtains the conditional expectation.
# - 1 pt: solves for $\mathbb E[x_0\mid x_t]$ with the correct factors $1-\bar\alpha$ and $1/\sqrt{\bar\alpha}$.
# - 1 pt: interpretation: the posterior mean is the MSE-optimal denoiser and it is computable from the score.
# - Deduct 1 pt for a derivation that assumes $p_{\text{data}}$ is Gaussian.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2
# manual: true
# points: 5

# %% [markdown]
# ### Question 2 [written, 5 points]: the score is a scaled noise predictor
#
# A noise-prediction network $\epsilon_\theta(x_t, t)$ is trained to minimize $\mathbb E\,\|\epsilon_\theta(x_t, t) - \epsilon\|^2$ over $x_0$, $\epsilon$ and $t$.
#
# (a) Show that the minimizer, at each $t$, is $\epsilon^*(x_t, t) = \mathbb E[\epsilon \mid x_t]$.
#
# (b) Using Question 1, show that
# $$\nabla_{x_t} \log p_t(x_t) = -\frac{\mathbb E[\epsilon \mid x_t]}{\sqrt{1 - \bar\alpha_t}},$$
# so that $s_\theta(x_t, t) = -\epsilon_\theta(x_t, t)/\sqrt{1-\bar\alpha_t}$ is the score model that a noise predictor defines. What happens to this conversion as $t \to -1$ ($\bar\alpha \to 1$), and why does that matter for a learned $\epsilon_\theta$?

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# **Solution.** (a) For fixed $t$ the loss is $\mathbb E_{x_t}\,\mathbb E\big[\|\epsilon_\theta(x_t) - \epsilon\|^2 \mid x_t\big]$. For each $x_t$, $\mathbb E[\|c - \epsilon\|^2 \mid x_t] = \|c - \mathbb E[\epsilon\mid x_t]\|^2 + \operatorname{tr}\operatorname{Cov}(\epsilon\mid x_t)$ is minimized by $c = \mathbb E[\epsilon \mid x_t]$ (a sufficiently expressive network can choose the value independently at every $x_t$).
#
# (b) From $x_t = \sqrt{\bar\alpha}\,x_0 + \sqrt{1-\bar\alpha}\,\epsilon$ and linearity of conditional expectation, $\mathbb E[\epsilon\mid x_t] = \big(x_t - \sqrt{\bar\alpha}\,\mathbb E[x_0\mid x_t]\big)/\sqrt{1-\bar\alpha}$. Insert Tweedie: $\sqrt{\bar\alpha}\,\mathbb E[x_0\mid x_t] = x_t + (1-\bar\alpha)\nabla\log p_t(x_t)$, hence
# $$\mathbb E[\epsilon\mid x_t] = \frac{-(1-\bar\alpha)\nabla\log p_t(x_t)}{\sqrt{1-\bar\alpha}} = -\sqrt{1-\bar\alpha}\,\nabla \log p_t(x_t).$$
#
# As $\bar\alpha \to 1$ the factor $1/\sqrt{1-\bar\alpha}$ blows up: the true score of the nearly clean data becomes very large (and is undefined for data on a low-dimensional set), while $\epsilon^*$ stays bounded. Any error of a learned $\epsilon_\theta$ is amplified by $1/\sqrt{1-\bar\alpha_t}$ (about $100\times$ at $t = 0$ of the linear schedule), which is why networks predict $\epsilon$ rather than the score, and why samplers avoid evaluating the score at $\bar\alpha = 1$.
#
# Rubric (5 points):
# - 2 pts: (a) the conditional-mean argument (bias-variance split, or setting the derivative of the conditional loss to zero).
# - 2 pts: (b) correct algebra from Tweedie, including the sign and the factor $\sqrt{1-\bar\alpha}$.
# - 1 pt: the limit: the factor $1/\sqrt{1-\bar\alpha}$ diverges and amplifies network errors (any correct consequence).

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [markdown]
# ### The exact score of a noised Gaussian mixture
#
# If $x_0$ follows the mixture $\sum_k w_k \mathcal N(\mu_k, \Sigma_k)$, then $x_t = \sqrt{\bar\alpha}\,x_0 + \sqrt{1-\bar\alpha}\,\epsilon$ follows another Gaussian mixture with the **same weights**, component means $\sqrt{\bar\alpha}\,\mu_k$ and covariances
# $$C_k = \bar\alpha\,\Sigma_k + (1 - \bar\alpha)\, I .$$
# Its score is a weighted average of the component scores:
# $$\nabla_x \log p_t(x) = -\sum_{k=1}^K r_k(x)\; C_k^{-1}\big(x - \sqrt{\bar\alpha}\,\mu_k\big),
# \qquad r_k(x) = \frac{w_k\, \mathcal N(x;\, \sqrt{\bar\alpha}\mu_k, C_k)}{\sum_j w_j\, \mathcal N(x;\, \sqrt{\bar\alpha}\mu_j, C_j)} .$$
# The responsibilities $r_k(x)$ are ratios of densities that can all underflow to $0$ far from the modes (try $x = (40, -40)$): compute them from **log**-densities with a softmax (`torch.softmax` or `torch.logsumexp`), which stays exact there.

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 12

# %% [markdown]
# ### Question 3 [autograded, 12 points]: `gmm_noised_score`
#
# Write `gmm_noised_score(x, abar_t, mixture)` that returns the exact score $\nabla_x \log p_t(x)$ of the mixture noised to level $\bar\alpha_t$.
#
# - `x`: shape $(B, D)$; `abar_t`: shape $(B,)$, one $\bar\alpha_t \in (0, 1]$ per sample (samples of one batch may have different noise levels); `mixture`: any object with `means` $(K, D)$, `covs` $(K, D, D)$ and `weights` $(K,)$ in the dtype of `x`.
# - Returns a tensor of shape $(B, D)$ in the dtype of `x`, finite everywhere (including far from every mode).
#
# Useful: `torch.linalg.solve(A, b)` (batched), `torch.linalg.slogdet(A).logabsdet`, `torch.softmax`. The constant $-\tfrac D2\log 2\pi$ cancels in the responsibilities.

# %% [raw]
# # BEGIN SOLUTION


# %%
def gmm_noised_score(x, abar_t, mixture):
    """Exact score of a Gaussian mixture noised to level abar_t (one level per sample)."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q3: write gmm_noised_score")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    B, D = x.shape
    means, covs, weights = mixture.means, mixture.covs, mixture.weights  # (K, D), (K, D, D), (K,)
    a = abar_t.reshape(B, 1, 1)  # (B, 1, 1)
    eye = torch.eye(D, dtype=x.dtype, device=x.device)
    C = a.unsqueeze(-1) * covs + (1 - a).unsqueeze(-1) * eye  # (B, K, D, D): noised covariances
    diff = x.unsqueeze(1) - a.sqrt() * means  # (B, K, D): x - sqrt(abar) mu_k
    sol = torch.linalg.solve(C, diff.unsqueeze(-1)).squeeze(-1)  # (B, K, D): C_k^{-1} (x - m_k)
    # log w_k + log N(x; m_k, C_k), without the constant -D/2 log(2 pi)
    log_r = weights.log() - 0.5 * (diff * sol).sum(-1) - 0.5 * torch.linalg.slogdet(C).logabsdet
    r = torch.softmax(log_r, dim=1)  # (B, K): responsibilities, stable far from every mode
    return -(r.unsqueeze(-1) * sol).sum(dim=1)  # (B, D)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
from types import SimpleNamespace

import torch

mix = SimpleNamespace(
    means=torch.tensor([[1.0, -2.0]], dtype=torch.float64),
    covs=torch.eye(2, dtype=torch.float64).unsqueeze(0),
    weights=torch.ones(1, dtype=torch.float64),
)
x = torch.tensor([[0.5, 0.5], [3.0, -1.0], [0.0, 0.0]], dtype=torch.float64)
s = gmm_noised_score(x, torch.ones(3, dtype=torch.float64), mix)
assert isinstance(s, torch.Tensor), "gmm_noised_score must return a torch.Tensor"
assert s.shape == (3, 2), f"expected shape (3, 2), got {tuple(s.shape)}"
assert s.dtype == torch.float64, "a float64 input must give a float64 score"
assert (s - (mix.means - x)).abs().max().item() < 1e-9, (
    "with abar = 1 and one component N(mu, I), the score must be mu - x"
)

# %%
# HIDDEN
from types import SimpleNamespace

import torch


def ref_score(x, a, means, covs, weights):
    xr = x.detach().clone().requires_grad_(True)
    total = 0.0
    for b in range(x.shape[0]):
        C = a[b] * covs + (1 - a[b]) * torch.eye(x.shape[1], dtype=x.dtype)
        comp = torch.distributions.MultivariateNormal(a[b].sqrt() * means, covariance_matrix=C)
        total = total + torch.logsumexp(weights.log() + comp.log_prob(xr[b]), dim=0)
    (g,) = torch.autograd.grad(total, xr)
    return g


means = torch.tensor([[2.0, 0.0], [-1.0, 1.5], [0.5, -2.0]], dtype=torch.float64)
A = torch.tensor(
    [[[0.5, 0.2], [0.0, 0.1]], [[0.3, -0.25], [0.1, 0.6]], [[0.05, 0.0], [0.4, 0.2]]],
    dtype=torch.float64,
)
covs = A @ A.transpose(1, 2) + 0.01 * torch.eye(2, dtype=torch.float64)
weights = torch.tensor([0.6, 0.3, 0.1], dtype=torch.float64)
mix = SimpleNamespace(means=means, covs=covs, weights=weights)
x = torch.tensor(
    [[1.0, 0.5], [-0.3, 0.8], [0.2, -1.1], [1.9, 0.3], [-0.7, -0.4]], dtype=torch.float64
)
abar = torch.tensor([0.9999, 0.5, 0.05, 1.0, 1e-3], dtype=torch.float64)
s = gmm_noised_score(x, abar, mix)
assert isinstance(s, torch.Tensor) and s.shape == (5, 2), (
    "the score must be a tensor of shape (B, D)"
)
assert s.dtype == torch.float64, "a float64 input must give a float64 score"
ref = ref_score(x, abar, means, covs, weights)
err = ((s - ref).abs().max() / (1 + ref.abs().max())).item()
assert err < 1e-9, (
    "score differs from the exact noised-mixture score (relative "
    f"error {err:.2e}): check the noised means, the noised covariances, "
    "the mixture weights and the per-sample noise level"
)

# %%
# HIDDEN
from types import SimpleNamespace

import torch


def ref_score(x, a, means, covs, weights):
    xr = x.detach().clone().requires_grad_(True)
    total = 0.0
    for b in range(x.shape[0]):
        C = a[b] * covs + (1 - a[b]) * torch.eye(x.shape[1], dtype=x.dtype)
        comp = torch.distributions.MultivariateNormal(a[b].sqrt() * means, covariance_matrix=C)
        total = total + torch.logsumexp(weights.log() + comp.log_prob(xr[b]), dim=0)
    (g,) = torch.autograd.grad(total, xr)
    return g


means = torch.tensor([[2.0, 0.0], [-1.0, 1.5], [0.5, -2.0]], dtype=torch.float64)
A = torch.tensor(
    [[[0.5, 0.2], [0.0, 0.1]], [[0.3, -0.25], [0.1, 0.6]], [[0.05, 0.0], [0.4, 0.2]]],
    dtype=torch.float64,
)
covs = A @ A.transpose(1, 2) + 0.01 * torch.eye(2, dtype=torch.float64)
weights = torch.tensor([0.6, 0.3, 0.1], dtype=torch.float64)
mix = SimpleNamespace(means=means, covs=covs, weights=weights)
x = torch.tensor([[40.0, -40.0], [-60.0, 25.0], [0.0, 80.0], [300.0, 300.0]], dtype=torch.float64)
abar = torch.tensor([1.0, 0.7, 0.2, 0.999], dtype=torch.float64)
s = gmm_noised_score(x, abar, mix)
assert bool(torch.isfinite(s).all()), (
    "the score is not finite far from the modes: compute the "
    "responsibilities from log-densities (softmax or logsumexp), "
    "not from densities"
)
ref = ref_score(x, abar, means, covs, weights)
err = ((s - ref).abs().max() / (1 + ref.abs().max())).item()
assert err < 1e-9, (
    f"far from the modes the score differs from the exact one (relative error {err:.2e})"
)

# %%
# HIDDEN
from types import SimpleNamespace

import torch


def ref_score(x, a, means, covs, weights):
    xr = x.detach().clone().requires_grad_(True)
    total = 0.0
    for b in range(x.shape[0]):
        C = a[b] * covs + (1 - a[b]) * torch.eye(x.shape[1], dtype=x.dtype)
        comp = torch.distributions.MultivariateNormal(a[b].sqrt() * means, covariance_matrix=C)
        total = total + torch.logsumexp(weights.log() + comp.log_prob(xr[b]), dim=0)
    (g,) = torch.autograd.grad(total, xr)
    return g


g = torch.Generator().manual_seed(3)
for D in (2, 3):
    means = torch.randn(4, D, generator=g, dtype=torch.float64) * 2
    A = torch.randn(4, D, D, generator=g, dtype=torch.float64) * 0.5
    covs = A @ A.transpose(1, 2) + 0.05 * torch.eye(D, dtype=torch.float64)
    weights = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    mix = SimpleNamespace(means=means, covs=covs, weights=weights)
    x = torch.randn(D, D, generator=g, dtype=torch.float64) * 2
    abar = torch.linspace(0.15, 0.95, D, dtype=torch.float64)
    s = gmm_noised_score(x, abar, mix)
    assert s.shape == (D, D), "the score must have the shape of x"
    ref = ref_score(x, abar, means, covs, weights)
    err = ((s - ref).abs().max() / (1 + ref.abs().max())).item()
    assert err < 1e-9, (
        "wrong score when the batch size equals the dimension (B "
        f"= D = {D}, relative error {err:.2e}): a per-sample coefficient "
        "of shape (B,) must be reshaped before it multiplies a (B, "
        "D) or (B, K, D) tensor"
    )

# %%
# HIDDEN
from types import SimpleNamespace

import torch


def ref_score(x, a, means, covs, weights):
    xr = x.detach().clone().requires_grad_(True)
    total = 0.0
    for b in range(x.shape[0]):
        C = a[b] * covs + (1 - a[b]) * torch.eye(x.shape[1], dtype=x.dtype)
        comp = torch.distributions.MultivariateNormal(a[b].sqrt() * means, covariance_matrix=C)
        total = total + torch.logsumexp(weights.log() + comp.log_prob(xr[b]), dim=0)
    (g,) = torch.autograd.grad(total, xr)
    return g


means = torch.tensor([[2.0, 0.0], [-1.0, 1.5], [0.5, -2.0]], dtype=torch.float64)
A = torch.tensor(
    [[[0.5, 0.2], [0.0, 0.1]], [[0.3, -0.25], [0.1, 0.6]], [[0.05, 0.0], [0.4, 0.2]]],
    dtype=torch.float64,
)
covs = A @ A.transpose(1, 2) + 0.01 * torch.eye(2, dtype=torch.float64)
weights = torch.tensor([0.6, 0.3, 0.1], dtype=torch.float64)
mix = SimpleNamespace(means=means, covs=covs, weights=weights)
x = torch.tensor([[1.0, 0.5], [-0.3, 0.8], [0.2, -1.1], [8.0, -9.0]], dtype=torch.float64)
abar = torch.tensor([0.97, 0.4, 0.02, 0.8], dtype=torch.float64)
mix32 = SimpleNamespace(means=means.float(), covs=covs.float(), weights=weights.float())
s = gmm_noised_score(x.float(), abar.float(), mix32)
assert s.dtype == torch.float32, (
    "a float32 input must give a float32 score (do not convert "
    "to float64 or create float64 tensors)"
)
ref = ref_score(x, abar, means, covs, weights)
err = ((s.double() - ref).abs().max() / (1 + ref.abs().max())).item()
assert err < 1e-4, f"the float32 score is inaccurate (relative error {err:.2e})"

# %%
# HIDDEN
# Arguments stay untouched, a batch of one, a single component, and a call under torch.no_grad().
from types import SimpleNamespace

import torch


def ref_score(x, a, means, covs, weights):
    xr = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        total = 0.0
        for b in range(x.shape[0]):
            C = a[b] * covs + (1 - a[b]) * torch.eye(x.shape[1], dtype=x.dtype)
            comp = torch.distributions.MultivariateNormal(a[b].sqrt() * means, covariance_matrix=C)
            total = total + torch.logsumexp(weights.log() + comp.log_prob(xr[b]), dim=0)
        (g,) = torch.autograd.grad(total, xr)
    return g


means = torch.tensor([[2.0, 0.0], [-1.0, 1.5], [0.5, -2.0]], dtype=torch.float64)
A = torch.tensor(
    [[[0.5, 0.2], [0.0, 0.1]], [[0.3, -0.25], [0.1, 0.6]], [[0.05, 0.0], [0.4, 0.2]]],
    dtype=torch.float64,
)
covs = A @ A.transpose(1, 2) + 0.01 * torch.eye(2, dtype=torch.float64)
weights = torch.tensor([0.6, 0.3, 0.1], dtype=torch.float64)
cases = [
    (means, covs, weights, torch.tensor([[0.4, -0.9]], dtype=torch.float64), 0.35),
    (means[1:2], covs[1:2], torch.ones(1, dtype=torch.float64), torch.tensor([[1.2, 0.3]]), 0.6),
]
for mu, cv, w, x, a in cases:
    x = x.to(torch.float64)
    abar = torch.tensor([a], dtype=torch.float64)
    mix = SimpleNamespace(means=mu, covs=cv, weights=w)
    saved = [t.clone() for t in (x, abar, mu, cv, w)]
    with torch.no_grad():
        s = gmm_noised_score(x, abar, mix)
    assert isinstance(s, torch.Tensor) and s.shape == (1, 2), (
        "a batch of one point (1, D) must give a score of shape (1, D): keep the batch dimension"
    )
    assert all(torch.equal(u, v) for u, v in zip((x, abar, mu, cv, w), saved, strict=True)), (
        "gmm_noised_score changed x, abar_t or the mixture in place: compute new tensors instead"
    )
    assert not x.requires_grad and x.grad is None, (
        "gmm_noised_score must leave the caller's x as it was (no requires_grad_ on it, no .grad): "
        "work on a detached copy if you use autograd"
    )
    err = (s - ref_score(x, abar, mu, cv, w)).abs().max().item()
    assert err < 1e-9, (
        "wrong score for a batch of one point, with three components or with a single one (called "
        "under torch.no_grad(): a function that needs gradients must enable them itself)"
    )

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# The figure below shows your score field (arrows, normalized to equal length) over samples of $p_t$ at three noise levels. At $\bar\alpha = 1$ the arrows point to the nearest mode; at high noise they all point towards the origin, where $p_t$ becomes a single broad bump.

# %%
fig, axes = plt.subplots(1, 3, figsize=(12, 4))
grid = torch.stack(
    torch.meshgrid(
        torch.linspace(-4.5, 4.5, 21, dtype=torch.float64),
        torch.linspace(-4.5, 4.5, 21, dtype=torch.float64),
        indexing="xy",
    ),
    dim=-1,
).reshape(-1, 2)
g = torch.Generator().manual_seed(2)
for ax, abar in zip(axes, [1.0, 0.3, 0.02], strict=True):
    noise = torch.randn(data.shape, generator=g, dtype=data.dtype)
    x_t = math.sqrt(abar) * data + math.sqrt(1 - abar) * noise  # samples of p_t
    score = gmm_noised_score(grid, torch.full((grid.shape[0],), abar, dtype=torch.float64), mixture)
    direction = score / score.norm(dim=1, keepdim=True).clamp_min(1e-12)
    ax.scatter(x_t[:, 0], x_t[:, 1], s=1, alpha=0.3, color="tab:blue")
    ax.quiver(
        grid[:, 0], grid[:, 1], direction[:, 0], direction[:, 1], color="tab:red", width=0.004
    )
    ax.set_title(f"score of $p_t$ at abar = {abar}")
    ax.set_aspect("equal")
plt.show()


# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 4

# %% [markdown]
# ### Question 4 [autograded, 4 points]: the Tweedie denoiser
#
# Write `tweedie_x0(x_t, score, abar_t)` that returns Tweedie's estimate of $\mathbb E[x_0\mid x_t]$ (Question 1) given the score at $x_t$.
#
# - `x_t` and `score`: the same shape $(B, \dots)$ (points $(B, D)$ or images $(B, C, H, W)$); `abar_t`: shape $(B,)$.
# - Returns a tensor of the shape and dtype of `x_t`.

# %% [raw]
# # BEGIN SOLUTION


# %%
def tweedie_x0(x_t, score, abar_t):
    """Posterior mean E[x_0 | x_t] from the score of p_t (Tweedie's formula)."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q4: write tweedie_x0")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    a = abar_t.reshape(-1, *([1] * (x_t.dim() - 1)))  # (B, 1, ...) broadcasts over the data dims
    return (x_t + (1 - a) * score) / a.sqrt()
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

x = torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]], dtype=torch.float64)
score = torch.tensor([[0.3, -0.2, 0.1], [2.0, 1.0, -1.0]], dtype=torch.float64)
out = tweedie_x0(x, score, torch.ones(2, dtype=torch.float64))
assert isinstance(out, torch.Tensor), "tweedie_x0 must return a torch.Tensor"
assert out.shape == x.shape, f"expected shape {tuple(x.shape)}, got {tuple(out.shape)}"
assert out.dtype == torch.float64, "a float64 input must give a float64 output"
assert (out - x).abs().max().item() < 1e-12, (
    "with abar = 1 (no noise) the denoised estimate must be x_t itself"
)

# %%
# HIDDEN
import torch

g = torch.Generator().manual_seed(11)
x = torch.randn(5, 3, generator=g, dtype=torch.float64)
score = torch.randn(5, 3, generator=g, dtype=torch.float64) * 3
abar = torch.tensor([0.9, 0.5, 0.05, 1.0, 1e-3], dtype=torch.float64)
out = tweedie_x0(x, score, abar)
assert isinstance(out, torch.Tensor) and out.shape == (5, 3), (
    "the output must be a tensor of the shape of x_t"
)
assert out.dtype == torch.float64, "a float64 input must give a float64 output"
ref = (x + (1 - abar)[:, None] * score) / abar.sqrt()[:, None]
err = ((out - ref).abs().max() / ref.abs().max()).item()
assert err < 1e-12, (
    f"wrong denoised estimate (relative error {err:.2e}): check "
    "the factor in front of the score and the division by sqrt(abar)"
)

# %%
# HIDDEN
import torch

g = torch.Generator().manual_seed(12)
for shape in [(2, 2), (3, 3), (4, 1, 3, 3)]:
    x = torch.randn(*shape, generator=g, dtype=torch.float64)
    score = torch.randn(*shape, generator=g, dtype=torch.float64)
    abar = torch.linspace(0.1, 0.9, shape[0], dtype=torch.float64)
    out = tweedie_x0(x, score, abar)
    assert out.shape == x.shape, f"for x_t of shape {shape} the output has shape {tuple(out.shape)}"
    a = abar.reshape(-1, *[1] * (len(shape) - 1))
    ref = (x + (1 - a) * score) / a.sqrt()
    err = (out - ref).abs().max().item()
    assert err < 1e-12, (
        f"wrong estimate for x_t of shape {shape}: the per-sample "
        "abar of shape (B,) must be reshaped to broadcast over all "
        "non-batch dimensions"
    )

# %%
# HIDDEN
import torch

g = torch.Generator().manual_seed(13)
x = torch.randn(4, 2, generator=g)
score = torch.randn(4, 2, generator=g)
abar = torch.tensor([0.99, 0.6, 0.2, 0.01])
out = tweedie_x0(x, score, abar)
assert out.dtype == torch.float32, "a float32 input must give a float32 output"
ref = (x.double() + (1 - abar.double())[:, None] * score.double()) / abar.double().sqrt()[:, None]
err = ((out.double() - ref).abs().max() / ref.abs().max()).item()
assert err < 1e-5, f"the float32 estimate is inaccurate (relative error {err:.2e})"

# %%
# HIDDEN
import torch


def ref_score(x, a, means, covs, weights):
    xr = x.detach().clone().requires_grad_(True)
    total = 0.0
    for b in range(x.shape[0]):
        C = a[b] * covs + (1 - a[b]) * torch.eye(x.shape[1], dtype=x.dtype)
        comp = torch.distributions.MultivariateNormal(a[b].sqrt() * means, covariance_matrix=C)
        total = total + torch.logsumexp(weights.log() + comp.log_prob(xr[b]), dim=0)
    (g,) = torch.autograd.grad(total, xr)
    return g


means = torch.tensor([[1.5, -0.5], [-1.0, 1.0]], dtype=torch.float64)
covs = torch.tensor([[[0.3, 0.1], [0.1, 0.2]], [[0.5, -0.2], [-0.2, 0.4]]], dtype=torch.float64)
weights = torch.tensor([0.7, 0.3], dtype=torch.float64)
x = torch.tensor([[0.2, 0.4], [1.0, -1.0], [-2.0, 0.5]], dtype=torch.float64)
abar = torch.tensor([0.3, 0.6, 0.9], dtype=torch.float64)
score = ref_score(x, abar, means, covs, weights)
out = tweedie_x0(x, score, abar)
expected = torch.zeros_like(x)
for b in range(3):
    a = abar[b]
    C = a * covs + (1 - a) * torch.eye(2, dtype=torch.float64)
    logp = weights.log() + torch.distributions.MultivariateNormal(
        a.sqrt() * means, covariance_matrix=C
    ).log_prob(x[b])
    r = torch.softmax(logp, dim=0)
    for k in range(2):
        post = means[k] + a.sqrt() * covs[k] @ torch.linalg.solve(C[k], x[b] - a.sqrt() * means[k])
        expected[b] = expected[b] + r[k] * post
err = (out - expected).abs().max().item()
assert err < 1e-9, (
    "Tweedie estimate differs from the exact posterior mean "
    f"of a Gaussian mixture (error {err:.2e})"
)

# %%
# HIDDEN
# Arguments stay untouched; a batch of one image keeps its batch dimension.
import torch

g = torch.Generator().manual_seed(14)
x = torch.randn(1, 1, 3, 3, generator=g, dtype=torch.float64)
score = torch.randn(1, 1, 3, 3, generator=g, dtype=torch.float64)
abar = torch.tensor([0.3], dtype=torch.float64)
saved = [t.clone() for t in (x, score, abar)]
out = tweedie_x0(x, score, abar)
assert isinstance(out, torch.Tensor) and out.shape == (1, 1, 3, 3), (
    "a batch of one image (1, C, H, W) must give an estimate of shape (1, C, H, W)"
)
assert all(torch.equal(u, v) for u, v in zip((x, score, abar), saved, strict=True)), (
    "tweedie_x0 changed x_t, score or abar_t in place: compute a new tensor instead"
)
ref = (saved[0] + 0.7 * saved[1]) / 0.3**0.5
assert (out - ref).abs().max().item() < 1e-12, "wrong estimate for a batch of one image"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Your denoiser in action: noisy points $x_t$ (grey) at $\bar\alpha = 0.5$ and their Tweedie estimates $\mathbb E[x_0\mid x_t]$ (red), with the data (blue). The estimates are pulled towards the data, but they are *averages* of possible clean points: between two modes they land between them. A single denoising step therefore does not produce samples; the samplers of Parts 2 to 4 take many small steps instead.

# %%
g = torch.Generator().manual_seed(4)
abar = 0.5
x0 = mixture.sample(300, g)
x_t = math.sqrt(abar) * x0 + math.sqrt(1 - abar) * torch.randn(
    x0.shape, generator=g, dtype=x0.dtype
)
abar_b = torch.full((x_t.shape[0],), abar, dtype=torch.float64)
x0_hat = tweedie_x0(x_t, gmm_noised_score(x_t, abar_b, mixture), abar_b)
fig, ax = plt.subplots(figsize=(5, 5))
ax.scatter(data[:, 0], data[:, 1], s=1, alpha=0.3, color="tab:blue", label="data")
ax.scatter(x_t[:, 0], x_t[:, 1], s=6, color="grey", label="$x_t$")
ax.scatter(x0_hat[:, 0], x0_hat[:, 1], s=6, color="tab:red", label="Tweedie estimate")
for i in range(60):
    ax.plot([x_t[i, 0], x0_hat[i, 0]], [x_t[i, 1], x0_hat[i, 1]], color="grey", lw=0.5)
ax.set_aspect("equal")
ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
plt.show()


# %% [markdown]
# ---
# ## Part 2. Langevin dynamics
#
# Given only the score $\nabla \log p$ of a density $p$, the (unadjusted) **Langevin algorithm** with step size $h > 0$ iterates
# $$x_{k+1} = x_k + h\,\nabla \log p(x_k) + \sqrt{2h}\; z_k, \qquad z_k \sim \mathcal N(0, I)\ \text{independent}.$$
# As $h \to 0$ and $k \to \infty$ the law of $x_k$ tends to $p$. With a finite step size it converges to a nearby distribution; for instance, for $p = \mathcal N(0, s^2)$ the chain is $x_{k+1} = (1 - h/s^2) x_k + \sqrt{2h} z_k$, whose stationary variance is $s^2 / (1 - h/(2s^2))$, slightly larger than $s^2$.

# %% [raw]
# # BEGIN QUESTION
# name: q5
# manual: true
# points: 7

# %% [markdown]
# ### Question 5 [written, 7 points]: why Langevin needs annealing
#
# Consider the 1D mixture $p(x) = w\,\mathcal N(x; -m, s^2) + (1 - w)\,\mathcal N(x; m, s^2)$ with $m \gg s$ (say $m = 4$, $s = 0.5$) and $w = 0.8$.
#
# (a) Show that for $x$ near $-m$ the score $\nabla \log p(x)$ is, up to an exponentially small error, $-(x + m)/s^2$, and near $+m$ it is $-(x - m)/s^2$: **the score hardly depends on $w$ near the modes.**
#
# (b) Use (a) to explain why Langevin dynamics with the clean score, started from points spread uniformly over $[-8, 8]$, produces samples in which about half (not 80%) lie near $-m$ for any practical number of steps. What would have to happen for the proportions to become right, and why does that take so long?
#
# (c) Annealed Langevin (Song and Ermon, 2019) runs Langevin on the noised densities $p_{\sigma_1}, p_{\sigma_2}, \dots, p_{\sigma_L}$ where $p_\sigma = p * \mathcal N(0, \sigma^2)$ and $\sigma_1 > \sigma_2 > \dots > \sigma_L$, each level started from the previous level's samples. Explain why this recovers the weights: what does $p_{\sigma_1}$ look like when $\sigma_1 \gtrsim m$, and what happens to the proportions as $\sigma$ decreases slowly? Why is the step size chosen as $h_i \propto \sigma_i^2$?

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# **Solution.** (a) $\nabla\log p(x) = \rho(x)\,\frac{-(x+m)}{s^2} + (1-\rho(x))\,\frac{-(x-m)}{s^2}$ with responsibility
# $$\rho(x) = \frac{w\,\mathcal N(x;-m,s^2)}{w\,\mathcal N(x;-m,s^2) + (1-w)\,\mathcal N(x;m,s^2)} = \Big(1 + \tfrac{1-w}{w}\, e^{2mx/s^2}\Big)^{-1}.$$
# Near $x = -m$: $e^{2mx/s^2} \approx e^{-2m^2/s^2} = e^{-128}$, so $\rho = 1 - O(e^{-2m^2/s^2})$ and the score is $-(x+m)/s^2$; symmetrically near $+m$. The weight $w$ enters only through the factor $\frac{1-w}{w}$ multiplying an exponentially small term. (The score is the gradient of $\log p$, and $\log w$ is a constant near each mode: it only matters where both components overlap.)
#
# (b) Langevin only sees the score. Each particle started in $x < 0$ is driven into the left mode, each one started in $x > 0$ into the right mode (about half each for a uniform start), and inside a mode the dynamics is that of a single Gaussian, independent of $w$. To correct the proportions, particles would have to cross from one mode to the other, through the region near $0$ where $p$ is about $e^{-m^2/(2s^2)} = e^{-32}$ times smaller than at the modes. The expected time for such a crossing grows like the inverse of that ratio (Kramers/Arrhenius: exponential in the barrier height $\log p(\pm m) - \log p(0) \approx m^2/(2s^2)$), about $e^{32}$ steps: never in practice. So the chain stays near its initial 50/50 split.
#
# (c) $p_\sigma$ is the same mixture with variances $s^2 + \sigma^2$. When $\sigma_1 \gtrsim m$ the two components overlap (for $\sigma^2 + s^2 \ge m^2$ the density is even unimodal), there is no barrier, and Langevin mixes quickly to $p_{\sigma_1}$, whose mass is split $w : 1-w$ between the negative and positive sides. When $\sigma$ decreases slowly, the barrier grows gradually; by the time it is high, each particle is already on its side in the right proportion, and the later levels only sharpen each mode. The last level $\sigma_L \ll s$ gives (nearly) $p$ with the correct weights.
#
# Step size: at level $i$ the density $p_{\sigma_i}$ has length scale about $\sqrt{s^2+\sigma_i^2} \approx \sigma_i$ and the score has magnitude $\approx \text{distance}/\sigma_i^2$. With $h_i = \varepsilon\,\sigma_i^2/\sigma_L^2$ the drift $h_i\nabla\log p_{\sigma_i}$ and the noise $\sqrt{2h_i}$ are the same fraction of $\sigma_i$ at every level (the "signal-to-noise ratio" of a step is constant): large, fast-mixing steps at high noise, small stable steps at low noise. A fixed $h$ would be either unstable at low noise or hopelessly slow at high noise.
#
# Rubric (7 points):
# - 2 pts: (a) responsibilities are exponentially close to 0/1 near the modes, so the score is the component score; $w$ only enters through an exponentially small term.
# - 2 pts: (b) particles stay in the mode of their starting side; fixing the proportions needs crossings through a low-density region, whose waiting time is exponential in the barrier ($\sim e^{m^2/2s^2}$).
# - 2 pts: (c) at large $\sigma$ the modes overlap / density unimodal, Langevin mixes and gets the $w:1-w$ split; slow decrease of $\sigma$ preserves it.
# - 1 pt: step size $\propto \sigma_i^2$ keeps the step proportional to the scale of $p_{\sigma_i}$ (stability at small $\sigma$, speed at large $\sigma$).

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q6a
# points: 3

# %% [markdown]
# ### Question 6a [autograded, 3 points]: one Langevin step
#
# Write `langevin_step(x, score, step_size, noise)` that returns $x + h\,\text{score} + \sqrt{2h}\,\text{noise}$ with $h$ = `step_size` (a positive Python float). `x`, `score` and `noise` have the same shape; the output has the shape and dtype of `x`.

# %% [raw]
# # BEGIN SOLUTION


# %%
def langevin_step(x, score, step_size, noise):
    """One step of unadjusted Langevin dynamics with injected noise."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q6a: write langevin_step")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    return x + step_size * score + math.sqrt(2 * step_size) * noise
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

x = torch.tensor([[1.0, -2.0], [0.5, 0.0], [3.0, 1.0]], dtype=torch.float64)
zero = torch.zeros_like(x)
out = langevin_step(x, zero, 0.1, zero)
assert isinstance(out, torch.Tensor), "langevin_step must return a torch.Tensor"
assert out.shape == x.shape, f"expected shape {tuple(x.shape)}, got {tuple(out.shape)}"
assert out.dtype == torch.float64, "a float64 input must give a float64 output"
assert (out - x).abs().max().item() < 1e-15, (
    "with zero score and zero noise a Langevin step must not move x"
)

# %%
# HIDDEN
import torch

g = torch.Generator().manual_seed(21)
x = torch.randn(4, 3, generator=g, dtype=torch.float64)
score = torch.randn(4, 3, generator=g, dtype=torch.float64)
noise = torch.randn(4, 3, generator=g, dtype=torch.float64)
h = 0.3
out = langevin_step(x, score, h, noise)
ref = x + h * score + (2 * h) ** 0.5 * noise
err = (out - ref).abs().max().item()
assert err < 1e-12, (
    f"wrong Langevin step (error {err:.2e}): check the drift "
    "(step_size times score) and the scale of the noise"
)

# %%
# HIDDEN
import torch

g = torch.Generator().manual_seed(22)
x = torch.randn(5, 2, generator=g, dtype=torch.float64)
noise = torch.randn(5, 2, generator=g, dtype=torch.float64)
out = langevin_step(x, torch.zeros_like(x), 0.5, noise)
err = (out - (x + noise)).abs().max().item()
assert err < 1e-12, (
    "with zero score and step size h the step must add sqrt(2 "
    "h) times the noise (here h = 0.5, so exactly the noise)"
)

# %%
# HIDDEN
import torch

g = torch.Generator().manual_seed(23)
x = torch.randn(2, 2, generator=g)
score = torch.randn(2, 2, generator=g)
noise = torch.randn(2, 2, generator=g)
out = langevin_step(x, score, 1e-3, noise)
assert out.dtype == torch.float32, "a float32 input must give a float32 output"
ref = x.double() + 1e-3 * score.double() + (2e-3) ** 0.5 * noise.double()
err = (out.double() - ref).abs().max().item()
assert err < 1e-5, f"the float32 step is inaccurate (error {err:.2e})"

# %%
# HIDDEN
# Arguments stay untouched; a batch of one keeps its batch dimension.
import torch

g = torch.Generator().manual_seed(24)
x = torch.randn(1, 3, generator=g, dtype=torch.float64)
score = torch.randn(1, 3, generator=g, dtype=torch.float64)
noise = torch.randn(1, 3, generator=g, dtype=torch.float64)
saved = [t.clone() for t in (x, score, noise)]
out = langevin_step(x, score, 0.02, noise)
assert isinstance(out, torch.Tensor) and out.shape == (1, 3) and out.dtype == torch.float64, (
    "a batch of one float64 point (1, D) must give a float64 result of shape (1, D)"
)
assert all(torch.equal(u, v) for u, v in zip((x, score, noise), saved, strict=True)), (
    "langevin_step changed x, score or noise in place (for example x += ...): return a new "
    "tensor and leave the arguments as they were"
)
ref = saved[0] + 0.02 * saved[1] + 0.04**0.5 * saved[2]
assert (out - ref).abs().max().item() < 1e-12, "wrong step for a batch of one point"


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q6b
# points: 4

# %% [markdown]
# ### Question 6b [autograded, 4 points]: the Langevin sampler
#
# Write `langevin(score_fn, x_init, step_size, num_steps, generator)` that runs `num_steps` Langevin steps from `x_init` and returns the final $x$ (same shape and dtype as `x_init`).
#
# - `score_fn(x)` returns the score at `x` (same shape as `x`); call it once per step, at the current $x$.
# - Draw the noise of every step from `generator`, in the dtype and on the device of `x_init` (you may call your `langevin_step`).

# %% [raw]
# # BEGIN SOLUTION


# %%
def langevin(score_fn, x_init, step_size, num_steps, generator):
    """Unadjusted Langevin dynamics: num_steps steps from x_init; returns the final x."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q6b: write langevin")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    x = x_init
    for _ in range(num_steps):
        noise = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        x = langevin_step(x, score_fn(x), step_size, noise)
    return x
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

g = torch.Generator().manual_seed(0)
x_init = torch.zeros(5, 2, dtype=torch.float64)
out = langevin(lambda x: -x, x_init, 0.1, 10, g)
assert isinstance(out, torch.Tensor), "langevin must return a torch.Tensor"
assert out.shape == (5, 2), f"expected shape (5, 2), got {tuple(out.shape)}"
assert out.dtype == torch.float64, "a float64 x_init must give a float64 output"
assert bool(torch.isfinite(out).all()), "the samples are not finite"
out0 = langevin(lambda x: -x, x_init + 1.0, 0.1, 0, g)
assert (out0 - 1.0).abs().max().item() == 0.0, (
    "with num_steps = 0 langevin must return x_init unchanged"
)

# %%
# HIDDEN
import torch

calls = []
c = torch.tensor([3.0, -1.0], dtype=torch.float64)


def score_fn(x):
    calls.append(x.clone())
    return c.expand(x.shape[0], 2).clone()


g = torch.Generator().manual_seed(5)
x_init = torch.zeros(4000, 2, dtype=torch.float64)
h = 0.04
out = langevin(score_fn, x_init, h, 12, g)
assert len(calls) == 12, (
    f"score_fn was called {len(calls)} times for num_steps = 12: call it once per step"
)
assert (calls[0] - x_init).abs().max().item() == 0.0, "the first score must be evaluated at x_init"
xs = calls + [out]
for k in range(12):
    inc = xs[k + 1] - xs[k]
    drift = inc.mean(0)
    assert (drift - h * c).abs().max().item() < 0.02, (
        f"at step {k} the mean move is {drift.tolist()}, expected step_size times the score"
    )
    var = (inc - h * c).pow(2).mean().item()
    assert abs(var / (2 * h) - 1) < 0.1, (
        f"at step {k} the variance of the noise added is {var:.4f}, expected 2 * step_size"
    )

# %%
# HIDDEN
import torch

s = 0.8
h = 0.5 * s**2
g = torch.Generator().manual_seed(6)
out = langevin(lambda x: -x / s**2, torch.zeros(4000, 2, dtype=torch.float64), h, 40, g)
expected = s**2 / (1 - h / (2 * s**2))
var = out.pow(2).mean().item()
assert abs(out.mean().item()) < 0.05, "the samples of N(0, s^2) are not centred at 0"
assert abs(var / expected - 1) < 0.08, (
    f"stationary variance {var:.3f}, expected {expected:.3f} "
    "for unadjusted Langevin on N(0, s^2): check the drift and "
    "the noise scale sqrt(2 h)"
)

# %%
# HIDDEN
import torch

x_init = torch.randn(50, 2, generator=torch.Generator().manual_seed(0)).double()
_ = torch.manual_seed(1)
out1 = langevin(lambda x: -x, x_init, 0.05, 20, torch.Generator().manual_seed(7))
_ = torch.manual_seed(2)
out2 = langevin(lambda x: -x, x_init, 0.05, 20, torch.Generator().manual_seed(7))
out3 = langevin(lambda x: -x, x_init, 0.05, 20, torch.Generator().manual_seed(8))
assert (out1 - out2).abs().max().item() == 0.0, (
    "two runs with equally seeded generators differ: draw all "
    "the noise from the generator argument (not from the global "
    "random state)"
)
assert (out1 - out3).abs().max().item() > 1e-3, (
    "runs with different generator seeds give the same samples: "
    "the noise must come from the generator"
)
out32 = langevin(lambda x: -x, x_init.float(), 0.05, 5, torch.Generator().manual_seed(7))
assert out32.dtype == torch.float32, (
    "a float32 x_init must give float32 samples: draw the noise in the dtype of x"
)

# %%
# HIDDEN
# Joint structure of the noise: independent across samples, coordinates and steps; x_init untouched.
import torch

calls = []


def score_fn(x):
    calls.append(x.clone())
    return -x / 0.64


h = 0.05
x_init = torch.randn(1000, 2, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
saved = x_init.clone()
out = langevin(score_fn, x_init, h, 8, torch.Generator().manual_seed(9))
assert torch.equal(x_init, saved), (
    "langevin changed x_init in place (x = x_init followed by x += ... modifies the caller's "
    "tensor): start from x = x_init and build new tensors"
)
assert len(calls) == 8, "score_fn must be called once per step"
xs = calls + [out]
z = torch.stack([(xs[k + 1] - xs[k] + h * xs[k] / 0.64) / (2 * h) ** 0.5 for k in range(8)])
flat = z.reshape(-1, 2)
assert torch.unique((flat * 1e6).round(), dim=0).shape[0] == flat.shape[0], (
    "two noise vectors are identical: every sample of every step needs its own fresh noise "
    "(draw the full shape of x from the generator at every step, never reuse a draw)"
)
z = z / z.std()
assert abs((z[:, 1:] * z[:, :-1]).mean().item()) < 0.08, (
    "the noise is correlated between samples: draw noise of the full shape of x"
)
assert abs((z[1:] * z[:-1]).mean().item()) < 0.08, (
    "the noise is correlated between successive steps: draw fresh noise at every step"
)
assert abs((z[..., 0] * z[..., 1]).mean().item()) < 0.08, (
    "the noise is correlated between coordinates: draw noise of the full shape of x"
)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **Experiment: Langevin on two far-apart modes.** The mixture below puts weight $0.8$ on the left mode and $0.2$ on the right one. We start 1000 particles uniformly in $[-8, 8]^2$ and run Langevin with the clean score (your `gmm_noised_score` at $\bar\alpha = 1$). Compare the fraction of samples on the left with the true $0.8$ (Question 5).

# %%
two_modes = GaussianMixture(
    means=torch.tensor([[-4.0, 0.0], [4.0, 0.0]], dtype=torch.float64),
    covs=0.25 * torch.eye(2, dtype=torch.float64).repeat(2, 1, 1),
    weights=torch.tensor([0.8, 0.2], dtype=torch.float64),
)


def clean_score(x):
    return gmm_noised_score(x, torch.ones(x.shape[0], dtype=x.dtype), two_modes)


g = torch.Generator().manual_seed(10)
x_start = 16 * torch.rand(1000, 2, generator=g, dtype=torch.float64) - 8
x_langevin = langevin(clean_score, x_start, 0.01, 400, g)
left_langevin = (x_langevin[:, 0] < 0).double().mean().item()
print(f"fraction on the left: {left_langevin:.3f} (true weight 0.8)")


# %% [markdown]
# ### Annealed Langevin
#
# To anneal we need the score of $p_\sigma = p * \mathcal N(0, \sigma^2 I)$, the density of $y = x_0 + \sigma\epsilon$. This is the $(y, \sigma)$ picture of Section 0: $x = \sqrt{\bar\alpha}\,y$ with $\bar\alpha = 1/(1+\sigma^2)$ follows $p_t$, so by the chain rule
# $$\nabla_y \log p_\sigma(y) = \sqrt{\bar\alpha}\;\nabla_x \log p_t\big(\sqrt{\bar\alpha}\, y\big).$$
# The function `noised_score` below implements this with your `gmm_noised_score`.
#
# **Annealed Langevin dynamics** (Song and Ermon, 2019, Algorithm 1): given noise levels $\sigma_1 > \sigma_2 > \dots > \sigma_L$ and a base step size $\varepsilon$, for $i = 1, \dots, L$ set $h_i = \varepsilon\,\sigma_i^2/\sigma_L^2$ and run `steps_per_level` Langevin steps with step size $h_i$ and score $\nabla\log p_{\sigma_i}$, starting from where the previous level ended.


# %%
def noised_score(mixture):
    # Returns score_fn(y, sigma): the score of mixture * N(0, sigma^2 I) at y, of shape (B, D).
    def score_fn(y, sigma):
        abar = 1.0 / (1.0 + float(sigma) ** 2)
        abar_b = torch.full((y.shape[0],), abar, dtype=y.dtype, device=y.device)
        return math.sqrt(abar) * gmm_noised_score(math.sqrt(abar) * y, abar_b, mixture)

    return score_fn


# %% [raw]
# # BEGIN QUESTION
# name: q7
# points: 7

# %% [markdown]
# ### Question 7 [autograded, 7 points]: annealed Langevin
#
# Write `annealed_langevin(score_fn, x_init, noise_levels, step_size, steps_per_level, generator)`.
#
# - `noise_levels`: a 1D tensor $(\sigma_1, \dots, \sigma_L)$, decreasing; `step_size`: the base step size $\varepsilon$ (a Python float); `steps_per_level`: an int.
# - `score_fn(x, sigma)` returns the score of $p_\sigma$ at `x`; call it with `sigma = noise_levels[i]` (a 0-d tensor) once per step, at the current $x$.
# - Draw all noise from `generator`, in the dtype and on the device of `x_init`. Return the final $x$ (shape and dtype of `x_init`).

# %% [raw]
# # BEGIN SOLUTION


# %%
def annealed_langevin(score_fn, x_init, noise_levels, step_size, steps_per_level, generator):
    """Annealed Langevin dynamics (Song and Ermon, 2019): h_i = eps * sigma_i^2 / sigma_L^2."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q7: write annealed_langevin")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    x = x_init
    sigma_L = float(noise_levels[-1])
    for sigma in noise_levels:
        h = step_size * (float(sigma) / sigma_L) ** 2  # step size of this level
        for _ in range(steps_per_level):
            noise = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
            x = langevin_step(x, score_fn(x, sigma), h, noise)
    return x
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

g = torch.Generator().manual_seed(0)
x_init = torch.zeros(6, 2, dtype=torch.float64)
levels = torch.tensor([2.0, 1.0, 0.5], dtype=torch.float64)
out = annealed_langevin(lambda x, sigma: -x / (1 + float(sigma) ** 2), x_init, levels, 0.01, 5, g)
assert isinstance(out, torch.Tensor), "annealed_langevin must return a torch.Tensor"
assert out.shape == (6, 2), f"expected shape (6, 2), got {tuple(out.shape)}"
assert out.dtype == torch.float64, "a float64 x_init must give a float64 output"
assert bool(torch.isfinite(out).all()), "the samples are not finite"

# %%
# HIDDEN
import torch

seen = []


def score_fn(x, sigma):
    seen.append(float(sigma))
    return -x


levels = torch.tensor([4.0, 2.0, 1.0, 0.5], dtype=torch.float64)
_ = annealed_langevin(
    score_fn,
    torch.zeros(3, 2, dtype=torch.float64),
    levels,
    0.01,
    3,
    torch.Generator().manual_seed(0),
)
expected = [4.0] * 3 + [2.0] * 3 + [1.0] * 3 + [0.5] * 3
assert len(seen) == len(expected), (
    f"score_fn was called {len(seen)} times, expected steps_per_level "
    f"* len(noise_levels) = {len(expected)}"
)
assert seen == expected, (
    f"score_fn was called with the noise levels {seen}, expected "
    "each level in the given order, steps_per_level times"
)

# %%
# HIDDEN
import torch

calls = []
c = torch.tensor([50.0, -50.0], dtype=torch.float64)


def score_fn(x, sigma):
    calls.append(x.clone())
    return c.expand(x.shape[0], 2).clone()


levels = torch.tensor([2.0, 1.0, 0.5], dtype=torch.float64)
eps = 0.01
out = annealed_langevin(
    score_fn,
    torch.zeros(4000, 2, dtype=torch.float64),
    levels,
    eps,
    2,
    torch.Generator().manual_seed(1),
)
assert len(calls) == 6, f"score_fn was called {len(calls)} times, expected 6"
xs = calls + [out]
for k in range(6):
    h = eps * (float(levels[k // 2]) / 0.5) ** 2
    drift = (xs[k + 1] - xs[k]).mean(0)
    ratio = (drift / (h * c)).tolist()
    assert all(abs(r - 1) < 0.05 for r in ratio), (
        f"at level {k // 2} the step size is about {ratio[0] * h:.4f}, "
        f"expected {h:.4f}: the step size of level i is step_size "
        "* sigma_i^2 / sigma_L^2"
    )

# %%
# HIDDEN
import torch

calls = []


def score_fn(x, sigma):
    calls.append(x.clone())
    return torch.zeros_like(x)


levels = torch.tensor([1.0, 0.25], dtype=torch.float64)
eps = 0.005
out = annealed_langevin(
    score_fn,
    torch.zeros(4000, 2, dtype=torch.float64),
    levels,
    eps,
    2,
    torch.Generator().manual_seed(2),
)
xs = calls + [out]
for k in range(4):
    h = eps * (float(levels[k // 2]) / 0.25) ** 2
    var = (xs[k + 1] - xs[k]).pow(2).mean().item()
    assert abs(var / (2 * h) - 1) < 0.1, (
        f"at level {k // 2} the variance of the added noise is {var:.4f}, "
        f"expected 2 * h_i = {2 * h:.4f}"
    )

# %%
# HIDDEN
import torch

x_init = torch.randn(50, 2, generator=torch.Generator().manual_seed(0)).double()
levels = torch.tensor([1.0, 0.5], dtype=torch.float64)
f = lambda x, sigma: -x / (1 + float(sigma) ** 2)
_ = torch.manual_seed(1)
out1 = annealed_langevin(f, x_init, levels, 0.01, 5, torch.Generator().manual_seed(7))
_ = torch.manual_seed(2)
out2 = annealed_langevin(f, x_init, levels, 0.01, 5, torch.Generator().manual_seed(7))
assert (out1 - out2).abs().max().item() == 0.0, (
    "two runs with equally seeded generators differ: draw all the noise from the generator argument"
)
out32 = annealed_langevin(
    f, x_init.float(), levels.float(), 0.01, 2, torch.Generator().manual_seed(7)
)
assert out32.dtype == torch.float32, "a float32 x_init must give float32 samples"

# %%
# HIDDEN
# Joint structure of the noise across samples, coordinates, steps and levels; arguments untouched.
import torch

calls = []


def score_fn(x, sigma):
    calls.append(x.clone())
    return -x / (1 + float(sigma) ** 2)


levels = torch.tensor([1.5, 0.8, 0.3], dtype=torch.float64)
eps = 0.01
x_init = torch.randn(1000, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
saved = [x_init.clone(), levels.clone()]
out = annealed_langevin(score_fn, x_init, levels, eps, 3, torch.Generator().manual_seed(4))
assert torch.equal(x_init, saved[0]) and torch.equal(levels, saved[1]), (
    "annealed_langevin changed x_init or noise_levels in place: build new tensors instead"
)
assert len(calls) == 9, "score_fn must be called steps_per_level times per level"
xs = calls + [out]
zs = []
for k in range(9):
    sig = float(levels[k // 3])
    hk = eps * (sig / 0.3) ** 2
    zs.append((xs[k + 1] - xs[k] + hk * xs[k] / (1 + sig**2)) / (2 * hk) ** 0.5)
z = torch.stack(zs)
flat = z.reshape(-1, 2)
assert torch.unique((flat * 1e6).round(), dim=0).shape[0] == flat.shape[0], (
    "two noise vectors are identical: every sample of every step needs its own fresh noise"
)
z = z / z.std()
assert abs((z[:, 1:] * z[:, :-1]).mean().item()) < 0.08, (
    "the noise is correlated between samples: draw noise of the full shape of x"
)
assert abs((z[1:] * z[:-1]).mean().item()) < 0.08, (
    "the noise is correlated between successive steps or levels: draw fresh noise at every step"
)
assert abs((z[..., 0] * z[..., 1]).mean().item()) < 0.08, (
    "the noise is correlated between coordinates: draw noise of the full shape of x"
)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %%
noise_levels = torch.logspace(1, -1, 10, dtype=torch.float64)  # 10 levels from 10 down to 0.1
x_annealed = annealed_langevin(
    noised_score(two_modes), x_start, noise_levels, 1e-3, 50, torch.Generator().manual_seed(11)
)
left_annealed = (x_annealed[:, 0] < 0).double().mean().item()

truth = two_modes.sample(1000, torch.Generator().manual_seed(12))
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
for ax, pts, title in zip(
    axes,
    [truth, x_langevin, x_annealed],
    ["true samples", "Langevin, clean score", "annealed Langevin"],
    strict=True,
):
    ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.4)
    ax.set_xlim(-7, 7)
    ax.set_ylim(-3, 3)
    frac = (pts[:, 0] < 0).double().mean().item()
    ax.set_title(f"{title}: {frac:.2f} on the left")
plt.show()


# %% [markdown]
# ---
# ## Part 3. The probability-flow ODE
#
# In the $(y, \sigma)$ coordinates of Section 0, $y = x_0 + \sigma\epsilon$: the noising process just adds Gaussian noise of standard deviation $\sigma$. Write $p_\sigma$ for the density of $y$. Song et al. (2021) showed that the deterministic **probability-flow ODE**
# $$\frac{dy}{d\sigma} = -\sigma\, \nabla_y \log p_\sigma(y) = \mathbb E[\epsilon \mid y] =: \hat\epsilon(x, \sigma), \qquad x = \frac{y}{\sqrt{1+\sigma^2}},$$
# transports $p_\sigma$ to $p_{\sigma'}$ for every $\sigma' < \sigma$: start from a sample of $p_{\sigma_{\max}}$, integrate down to $\sigma = 0$, and you get a sample of the data. (The middle equality is Question 2 in $y$ coordinates.) The right-hand side is exactly what a noise-prediction network computes, evaluated at the network's input $x = \sqrt{\bar\alpha}\,y$ and the noise level $\sigma$.
#
# Your functions take and return $x$ (the coordinates the network sees); $y$ is only used inside a step. A step goes from $\sigma$ to $\sigma_{\text{next}} < \sigma$, with $\Delta = \sigma_{\text{next}} - \sigma < 0$:
#
# - **Euler**, given the slope $\hat\epsilon = \hat\epsilon(x, \sigma)$: $\;y = x\sqrt{1+\sigma^2}$, $\;y_{\text{next}} = y + \Delta\,\hat\epsilon$, $\;x_{\text{next}} = y_{\text{next}}/\sqrt{1+\sigma_{\text{next}}^2}$.
# - **Heun** (explicit trapezoidal rule): take the Euler step as a prediction $\tilde x$, evaluate the slope there, $\hat\epsilon' = \hat\epsilon(\tilde x, \sigma_{\text{next}})$, and redo the step from $x$ with the average slope $(\hat\epsilon + \hat\epsilon')/2$. It costs two model evaluations per step and is second-order accurate.
#
# These are the signatures of the course library (`diffcourse.ode`), which you do not have: you write them here.

# %% [raw]
# # BEGIN QUESTION
# name: q8a
# points: 5

# %% [markdown]
# ### Question 8a [autograded, 5 points]: Euler step
#
# Write `euler_step(x, eps, sigma, sigma_next)`: one Euler step of the probability-flow ODE from $\sigma$ to $\sigma_{\text{next}}$.
#
# - `x`: shape $(B, \dots)$, at noise level $\sigma$; `eps`: the slope $\hat\epsilon(x, \sigma)$, same shape; `sigma`, `sigma_next`: tensors of shape $(B,)$, one level per sample (`sigma_next` may be $0$).
# - Returns $x_{\text{next}}$ at level $\sigma_{\text{next}}$, with the shape and dtype of `x`.

# %% [raw]
# # BEGIN SOLUTION


# %%
def euler_step(x, eps, sigma, sigma_next):
    """One Euler step of dy/dsigma = eps_hat in y = x * sqrt(1 + sigma^2); x in, x out."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q8a: write euler_step")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    s = sigma.reshape(-1, *([1] * (x.dim() - 1)))  # (B, 1, ...)
    s_next = sigma_next.reshape(-1, *([1] * (x.dim() - 1)))
    y = x * (1 + s**2).sqrt()  # y = x / sqrt(abar)
    y_next = y + (s_next - s) * eps
    return y_next / (1 + s_next**2).sqrt()
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

x = torch.tensor([[1.0, 2.0], [-3.0, 0.5], [0.0, 1.0]], dtype=torch.float64)
eps = torch.tensor([[0.3, -0.2], [1.0, 0.0], [-0.5, 0.5]], dtype=torch.float64)
sigma = torch.tensor([2.0, 1.0, 0.5], dtype=torch.float64)
out = euler_step(x, eps, sigma, sigma.clone())
assert isinstance(out, torch.Tensor), "euler_step must return a torch.Tensor"
assert out.shape == x.shape, f"expected shape {tuple(x.shape)}, got {tuple(out.shape)}"
assert out.dtype == torch.float64, "a float64 input must give a float64 output"
assert (out - x).abs().max().item() < 1e-12, "a step with sigma_next = sigma must not move x"

# %%
# HIDDEN
import torch


def bshape(v, x):
    return v.reshape(-1, *[1] * (x.dim() - 1))


def ref_euler(x, eps, s, s2):
    y = x * (1 + bshape(s, x) ** 2).sqrt()
    return (y + (bshape(s2, x) - bshape(s, x)) * eps) / (1 + bshape(s2, x) ** 2).sqrt()


def ref_heun(f, x, s, s2):
    d = f(x, s)
    d2 = f(ref_euler(x, d, s, s2), s2)
    return ref_euler(x, (d + d2) / 2, s, s2)


g = torch.Generator().manual_seed(31)
x = torch.randn(5, 3, generator=g, dtype=torch.float64)
eps = torch.randn(5, 3, generator=g, dtype=torch.float64)
sigma = torch.tensor([80.0, 10.0, 1.0, 0.1, 0.01], dtype=torch.float64)
sigma_next = torch.tensor([40.0, 5.0, 0.5, 0.05, 0.0], dtype=torch.float64)
out = euler_step(x, eps, sigma, sigma_next)
assert out.shape == x.shape and out.dtype == torch.float64, (
    "the output must have the shape and dtype of x"
)
ref = ref_euler(x, eps, sigma, sigma_next)
err = ((out - ref).abs().max() / ref.abs().max()).item()
assert err < 1e-12, (
    f"wrong Euler step (relative error {err:.2e}): convert x "
    "to y = x * sqrt(1 + sigma^2), move y by (sigma_next - sigma) "
    "* eps, convert back with sigma_next"
)

# %%
# HIDDEN
import torch

g = torch.Generator().manual_seed(33)
x = torch.randn(4, 2, generator=g, dtype=torch.float64)
eps = torch.randn(4, 2, generator=g, dtype=torch.float64)
sigma = torch.tensor([5.0, 1.0, 0.3, 0.05], dtype=torch.float64)
out = euler_step(x, eps, sigma, torch.zeros(4, dtype=torch.float64))
abar = (1 / (1 + sigma**2))[:, None]
x0_hat = (x - (1 - abar).sqrt() * eps) / abar.sqrt()
err = (out - x0_hat).abs().max().item()
assert err < 1e-12, (
    "a step to sigma_next = 0 must return the denoised estimate "
    f"(x - sqrt(1 - abar) eps) / sqrt(abar) (error {err:.2e})"
)
out0 = euler_step(x, torch.zeros_like(x), sigma, sigma / 2)
expected = x * ((1 + sigma**2) / (1 + sigma**2 / 4)).sqrt()[:, None]
assert (out0 - expected).abs().max().item() < 1e-12, (
    "with eps = 0, y = x * sqrt(1 + sigma^2) must stay constant"
)

# %%
# HIDDEN
import torch


def bshape(v, x):
    return v.reshape(-1, *[1] * (x.dim() - 1))


def ref_euler(x, eps, s, s2):
    y = x * (1 + bshape(s, x) ** 2).sqrt()
    return (y + (bshape(s2, x) - bshape(s, x)) * eps) / (1 + bshape(s2, x) ** 2).sqrt()


def ref_heun(f, x, s, s2):
    d = f(x, s)
    d2 = f(ref_euler(x, d, s, s2), s2)
    return ref_euler(x, (d + d2) / 2, s, s2)


g = torch.Generator().manual_seed(32)
for shape in [(2, 2), (3, 1, 2, 2)]:
    x = torch.randn(*shape, generator=g, dtype=torch.float64)
    eps = torch.randn(*shape, generator=g, dtype=torch.float64)
    sigma = torch.linspace(2.0, 0.5, shape[0], dtype=torch.float64)
    out = euler_step(x, eps, sigma, sigma * 0.6)
    ref = ref_euler(x, eps, sigma, sigma * 0.6)
    assert out.shape == x.shape, f"for x of shape {shape} the output has shape {tuple(out.shape)}"
    err = (out - ref).abs().max().item()
    assert err < 1e-12, (
        f"wrong step for x of shape {shape}: per-sample sigma of "
        "shape (B,) must be reshaped to broadcast over all non-batch "
        "dimensions"
    )
x32 = torch.randn(4, 2, generator=g)
e32 = torch.randn(4, 2, generator=g)
s32 = torch.tensor([5.0, 2.0, 1.0, 0.2])
out32 = euler_step(x32, e32, s32, s32 / 2)
assert out32.dtype == torch.float32, "a float32 input must give a float32 output"
ref64 = ref_euler(x32.double(), e32.double(), s32.double(), s32.double() / 2)
assert ((out32.double() - ref64).abs().max() / ref64.abs().max()).item() < 1e-5, (
    "the float32 Euler step is inaccurate"
)

# %%
# HIDDEN
# Arguments stay untouched; a batch of one image keeps its batch dimension.
import torch

g = torch.Generator().manual_seed(34)
x = torch.randn(1, 1, 2, 2, generator=g, dtype=torch.float64)
eps = torch.randn(1, 1, 2, 2, generator=g, dtype=torch.float64)
sigma = torch.tensor([3.0], dtype=torch.float64)
sigma_next = torch.tensor([1.2], dtype=torch.float64)
saved = [t.clone() for t in (x, eps, sigma, sigma_next)]
out = euler_step(x, eps, sigma, sigma_next)
assert isinstance(out, torch.Tensor) and out.shape == (1, 1, 2, 2), (
    "a batch of one image (1, C, H, W) must give a result of shape (1, C, H, W)"
)
assert all(torch.equal(u, v) for u, v in zip((x, eps, sigma, sigma_next), saved, strict=True)), (
    "euler_step changed one of its arguments in place: compute new tensors instead"
)
ref = (saved[0] * 10.0**0.5 + (1.2 - 3.0) * saved[1]) / (1 + 1.2**2) ** 0.5
assert (out - ref).abs().max().item() < 1e-12, "wrong Euler step for a batch of one image"


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q8b
# points: 6

# %% [markdown]
# ### Question 8b [autograded, 6 points]: Heun step
#
# Write `heun_step(x, eps, sigma, sigma_next, eps_next_fn)`: one Heun step, with the arguments of `euler_step` and `sigma_next` $> 0$. `eps_next_fn(x_pred)` returns the slope $\hat\epsilon(x_{\text{pred}}, \sigma_{\text{next}})$ at a point in $x$ coordinates at level $\sigma_{\text{next}}$; call it exactly once, at the Euler prediction. (You may call your `euler_step`.)

# %% [raw]
# # BEGIN SOLUTION


# %%
def heun_step(x, eps, sigma, sigma_next, eps_next_fn):
    """One Heun step: Euler prediction, then the step with the average of both slopes."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q8b: write heun_step")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    x_pred = euler_step(x, eps, sigma, sigma_next)  # Euler prediction at sigma_next
    eps_next = eps_next_fn(x_pred)  # slope at the predicted end
    return euler_step(x, (eps + eps_next) / 2, sigma, sigma_next)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

x = torch.tensor([[1.0, 2.0], [-3.0, 0.5], [0.0, 1.0]], dtype=torch.float64)
eps = torch.tensor([[0.3, -0.2], [1.0, 0.0], [-0.5, 0.5]], dtype=torch.float64)
sigma = torch.tensor([2.0, 1.0, 0.5], dtype=torch.float64)
calls = []
out = heun_step(x, eps, sigma, sigma.clone(), lambda xp: calls.append(1) or eps)
assert isinstance(out, torch.Tensor), "heun_step must return a torch.Tensor"
assert out.shape == x.shape, f"expected shape {tuple(x.shape)}, got {tuple(out.shape)}"
assert out.dtype == torch.float64, "a float64 input must give a float64 output"
assert len(calls) == 1, f"eps_next_fn was called {len(calls)} times, expected once"
assert (out - x).abs().max().item() < 1e-12, "a step with sigma_next = sigma must not move x"

# %%
# HIDDEN
import torch


def eps_fn(x, sigma):
    s = sigma.reshape(-1, *[1] * (x.dim() - 1))
    return torch.tanh(x) * s / (1 + s) + 0.1 * x**2 - 0.05 * s.sqrt()


def bshape(v, x):
    return v.reshape(-1, *[1] * (x.dim() - 1))


def ref_euler(x, eps, s, s2):
    y = x * (1 + bshape(s, x) ** 2).sqrt()
    return (y + (bshape(s2, x) - bshape(s, x)) * eps) / (1 + bshape(s2, x) ** 2).sqrt()


def ref_heun(f, x, s, s2):
    d = f(x, s)
    d2 = f(ref_euler(x, d, s, s2), s2)
    return ref_euler(x, (d + d2) / 2, s, s2)


g = torch.Generator().manual_seed(41)
x = torch.randn(5, 3, generator=g, dtype=torch.float64)
sigma = torch.tensor([80.0, 10.0, 1.0, 0.1, 0.02], dtype=torch.float64)
sigma_next = torch.tensor([40.0, 5.0, 0.5, 0.05, 0.01], dtype=torch.float64)
out = heun_step(x, eps_fn(x, sigma), sigma, sigma_next, lambda xp: eps_fn(xp, sigma_next))
assert out.shape == x.shape and out.dtype == torch.float64, (
    "the output must have the shape and dtype of x"
)
ref = ref_heun(eps_fn, x, sigma, sigma_next)
err = ((out - ref).abs().max() / ref.abs().max()).item()
assert err < 1e-12, (
    f"wrong Heun step (relative error {err:.2e}): the step uses "
    "the average of the slope at the start and the slope at "
    "the Euler prediction"
)

# %%
# HIDDEN
import torch


def bshape(v, x):
    return v.reshape(-1, *[1] * (x.dim() - 1))


def ref_euler(x, eps, s, s2):
    y = x * (1 + bshape(s, x) ** 2).sqrt()
    return (y + (bshape(s2, x) - bshape(s, x)) * eps) / (1 + bshape(s2, x) ** 2).sqrt()


def ref_heun(f, x, s, s2):
    d = f(x, s)
    d2 = f(ref_euler(x, d, s, s2), s2)
    return ref_euler(x, (d + d2) / 2, s, s2)


seen = []


def rec(xp):
    seen.append(xp.clone())
    return 0.5 * xp


x = torch.tensor([[3.0, -1.0], [2.0, 4.0]], dtype=torch.float64)
eps = torch.tensor([[0.2, 0.1], [-0.4, 0.3]], dtype=torch.float64)
sigma = torch.tensor([3.0, 0.5], dtype=torch.float64)
sigma_next = torch.tensor([1.0, 0.25], dtype=torch.float64)
_ = heun_step(x, eps, sigma, sigma_next, rec)
assert len(seen) == 1, f"heun_step called eps_next_fn {len(seen)} times, expected exactly once"
x_pred = ref_euler(x, eps, sigma, sigma_next)
assert (seen[0] - x_pred).abs().max().item() < 1e-12, (
    "eps_next_fn must be evaluated at the Euler prediction, in x coordinates at sigma_next"
)

# %%
# HIDDEN
import torch

mu = torch.tensor([1.0, -0.5], dtype=torch.float64)
s0 = 0.5


def gauss_eps(x, sigma):
    sg = sigma.reshape(-1, 1)
    y = x * (1 + sg**2).sqrt()
    return sg * (y - mu) / (s0**2 + sg**2)


def exact_y(y_start, a, b):
    return mu + (y_start - mu) * ((s0**2 + b**2) / (s0**2 + a**2)) ** 0.5


def exact_x(x_start, a, b):
    return exact_y(x_start * (1 + a**2) ** 0.5, a, b) / (1 + b**2) ** 0.5


x0 = torch.tensor([[3.0, 2.0], [-1.0, 0.5], [0.2, -2.0]], dtype=torch.float64) / 5
errs = []
for delta in [0.4, 0.2, 0.1]:
    s = torch.full((3,), 2.0, dtype=torch.float64)
    out = heun_step(
        x0, gauss_eps(x0, s), s, s - delta, lambda xp, s=s, d=delta: gauss_eps(xp, s - d)
    )
    errs.append((out - exact_x(x0, 2.0, 2.0 - delta)).abs().max().item())
ratio = errs[1] / errs[2]
assert ratio > 6.0, (
    f"the local error of one step shrinks by a factor {ratio:.2f} "
    "when the step is halved; a second-order method gives about "
    "8 (Euler gives 4)"
)

# %%
# HIDDEN
import torch


def eps_fn(x, sigma):
    s = sigma.reshape(-1, *[1] * (x.dim() - 1))
    return torch.tanh(x) * s / (1 + s) + 0.1 * x**2 - 0.05 * s.sqrt()


def bshape(v, x):
    return v.reshape(-1, *[1] * (x.dim() - 1))


def ref_euler(x, eps, s, s2):
    y = x * (1 + bshape(s, x) ** 2).sqrt()
    return (y + (bshape(s2, x) - bshape(s, x)) * eps) / (1 + bshape(s2, x) ** 2).sqrt()


def ref_heun(f, x, s, s2):
    d = f(x, s)
    d2 = f(ref_euler(x, d, s, s2), s2)
    return ref_euler(x, (d + d2) / 2, s, s2)


g = torch.Generator().manual_seed(42)
for shape in [(2, 2), (3, 1, 2, 2)]:
    x = torch.randn(*shape, generator=g, dtype=torch.float64)
    sigma = torch.linspace(2.0, 0.5, shape[0], dtype=torch.float64)
    out = heun_step(
        x, eps_fn(x, sigma), sigma, sigma * 0.6, lambda xp, s=sigma: eps_fn(xp, s * 0.6)
    )
    ref = ref_heun(eps_fn, x, sigma, sigma * 0.6)
    assert out.shape == x.shape, f"for x of shape {shape} the output has shape {tuple(out.shape)}"
    err = (out - ref).abs().max().item()
    assert err < 1e-12, (
        f"wrong step for x of shape {shape}: per-sample sigma of "
        "shape (B,) must be reshaped to broadcast over all non-batch "
        "dimensions"
    )
x32 = torch.randn(4, 2, generator=g)
s32 = torch.tensor([5.0, 2.0, 1.0, 0.2])
out32 = heun_step(x32, eps_fn(x32, s32), s32, s32 / 2, lambda xp: eps_fn(xp, s32 / 2))
assert out32.dtype == torch.float32, "a float32 input must give a float32 output"
ref64 = ref_heun(eps_fn, x32.double(), s32.double(), s32.double() / 2)
assert ((out32.double() - ref64).abs().max() / ref64.abs().max()).item() < 1e-5, (
    "the float32 Heun step is inaccurate"
)

# %%
# HIDDEN
# Arguments stay untouched; a batch of one image keeps its batch dimension.
import torch


def ref_euler(x, eps, s, s2):
    return (x * (1 + s**2) ** 0.5 + (s2 - s) * eps) / (1 + s2**2) ** 0.5


g = torch.Generator().manual_seed(43)
x = torch.randn(1, 1, 2, 2, generator=g, dtype=torch.float64)
eps = torch.randn(1, 1, 2, 2, generator=g, dtype=torch.float64)
sigma = torch.tensor([2.0], dtype=torch.float64)
sigma_next = torch.tensor([0.7], dtype=torch.float64)
saved = [t.clone() for t in (x, eps, sigma, sigma_next)]
seen = []


def slope(xp):
    seen.append(xp.clone())
    return 0.3 * xp + 0.1


out = heun_step(x, eps, sigma, sigma_next, slope)
assert isinstance(out, torch.Tensor) and out.shape == (1, 1, 2, 2), (
    "a batch of one image (1, C, H, W) must give a result of shape (1, C, H, W)"
)
assert all(torch.equal(u, v) for u, v in zip((x, eps, sigma, sigma_next), saved, strict=True)), (
    "heun_step changed one of its arguments in place: compute new tensors instead"
)
x_pred = ref_euler(saved[0], saved[1], 2.0, 0.7)
assert len(seen) == 1 and (seen[0] - x_pred).abs().max().item() < 1e-12, (
    "eps_next_fn must be called once, at the Euler prediction"
)
ref = ref_euler(saved[0], (saved[1] + 0.3 * x_pred + 0.1) / 2, 2.0, 0.7)
assert (out - ref).abs().max().item() < 1e-12, "wrong Heun step for a batch of one image"


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q8c
# points: 5

# %% [markdown]
# ### Question 8c [autograded, 5 points]: the ODE sampler
#
# Write `pf_ode_sample(eps_fn, x_T, sigmas, method="euler")`.
#
# - `x_T`: shape $(B, \dots)$, a sample of $p_t$ in **$x$ coordinates** at noise level `sigmas[0]`; `sigmas`: a 1D tensor $(\sigma_0 > \sigma_1 > \dots > \sigma_N \ge 0)$ shared by the whole batch; `method`: `"euler"` or `"heun"`.
# - `eps_fn(x, sigma)` is the model: it returns $\hat\epsilon$ at `x` (shape of `x`) for `sigma` of shape $(B,)$.
# - Take the $N$ steps $\sigma_i \to \sigma_{i+1}$ with your `euler_step` or `heun_step` (pass $\sigma$ as tensors of shape $(B,)$), and return $x$ at level $\sigma_N$ (shape and dtype of `x_T`).
# - With `"heun"`, a step that ends at $\sigma_{i+1} = 0$ is an Euler step (as in Karras et al., 2022): $\hat\epsilon$ is not defined at zero noise.

# %% [raw]
# # BEGIN SOLUTION


# %%
def pf_ode_sample(eps_fn, x_T, sigmas, method="euler"):
    """Integrate the probability-flow ODE from sigmas[0] down to sigmas[-1]; x in, x out."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q8c: write pf_ode_sample")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    if method not in ("euler", "heun"):
        raise ValueError(f"method must be 'euler' or 'heun', got {method!r}")
    B = x_T.shape[0]
    sigmas = sigmas.to(dtype=x_T.dtype, device=x_T.device)
    x = x_T
    for i in range(len(sigmas) - 1):
        sigma, sigma_next = sigmas[i].expand(B), sigmas[i + 1].expand(B)  # (B,)
        eps = eps_fn(x, sigma)
        if method == "heun" and sigmas[i + 1] > 0:
            x = heun_step(x, eps, sigma, sigma_next, lambda x_pred, s=sigma_next: eps_fn(x_pred, s))
        else:
            x = euler_step(x, eps, sigma, sigma_next)
    return x
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

x_T = torch.tensor([[1.0, -1.0], [0.5, 2.0], [0.0, 0.3]], dtype=torch.float64)
sigmas = torch.tensor([3.0, 1.0, 0.5], dtype=torch.float64)
out = pf_ode_sample(lambda x, sigma: torch.zeros_like(x), x_T, sigmas, "euler")
assert isinstance(out, torch.Tensor), "pf_ode_sample must return a torch.Tensor"
assert out.shape == x_T.shape, f"expected shape {tuple(x_T.shape)}, got {tuple(out.shape)}"
assert out.dtype == torch.float64, "a float64 input must give a float64 output"
expected = x_T * (1 + 3.0**2) ** 0.5 / (1 + 0.5**2) ** 0.5
assert (out - expected).abs().max().item() < 1e-12, (
    "when eps_hat is zero, y is constant: the output must be "
    "x_T * sqrt(1 + sigma_0^2) / sqrt(1 + sigma_N^2) (convert "
    "to y at the start and back to x at the end)"
)

# %%
# HIDDEN
import torch


def eps_fn(x, sigma):
    s = sigma.reshape(-1, *[1] * (x.dim() - 1))
    return torch.tanh(x) * s / (1 + s) + 0.1 * x**2 - 0.05 * s.sqrt()


def bshape(v, y):
    return v.reshape(-1, *[1] * (y.dim() - 1))


def y_euler(f, y, s, s2):
    return y + (bshape(s2, y) - bshape(s, y)) * f(y / (1 + bshape(s, y) ** 2).sqrt(), s)


def y_heun(f, y, s, s2):
    d = f(y / (1 + bshape(s, y) ** 2).sqrt(), s)
    y1 = y + (bshape(s2, y) - bshape(s, y)) * d
    d2 = f(y1 / (1 + bshape(s2, y) ** 2).sqrt(), s2)
    return y + (bshape(s2, y) - bshape(s, y)) * (d + d2) / 2


g = torch.Generator().manual_seed(51)
x_T = torch.randn(4, 2, generator=g, dtype=torch.float64)
sigmas = torch.tensor([20.0, 5.0, 1.0, 0.3, 0.05, 0.0], dtype=torch.float64)
out = pf_ode_sample(eps_fn, x_T, sigmas, "euler")
y = x_T * (1 + 20.0**2) ** 0.5
for i in range(5):
    y = y_euler(eps_fn, y, sigmas[i].expand(4), sigmas[i + 1].expand(4))
err = ((out - y).abs().max() / y.abs().max()).item()
assert err < 1e-10, (
    "Euler sampler differs from successive Euler steps (relative "
    f"error {err:.2e}): check the conversion between x and y "
    "and the loop over the noise levels"
)

# %%
# HIDDEN
import torch


def eps_fn(x, sigma):
    s = sigma.reshape(-1, *[1] * (x.dim() - 1))
    return torch.tanh(x) * s / (1 + s) + 0.1 * x**2 - 0.05 * s.sqrt()


def bshape(v, y):
    return v.reshape(-1, *[1] * (y.dim() - 1))


def y_euler(f, y, s, s2):
    return y + (bshape(s2, y) - bshape(s, y)) * f(y / (1 + bshape(s, y) ** 2).sqrt(), s)


def y_heun(f, y, s, s2):
    d = f(y / (1 + bshape(s, y) ** 2).sqrt(), s)
    y1 = y + (bshape(s2, y) - bshape(s, y)) * d
    d2 = f(y1 / (1 + bshape(s2, y) ** 2).sqrt(), s2)
    return y + (bshape(s2, y) - bshape(s, y)) * (d + d2) / 2


g = torch.Generator().manual_seed(52)
x_T = torch.randn(3, 3, generator=g, dtype=torch.float64)
calls = []


def counted(x, sigma):
    calls.append(1)
    return eps_fn(x, sigma)


for sigmas in [
    torch.tensor([20.0, 5.0, 1.0, 0.3, 0.0], dtype=torch.float64),
    torch.tensor([10.0, 2.0, 0.4, 0.01], dtype=torch.float64),
]:
    calls.clear()
    out = pf_ode_sample(counted, x_T, sigmas, "heun")
    n = len(sigmas) - 1
    y = x_T * (1 + sigmas[0] ** 2).sqrt()
    for i in range(n):
        step = y_heun if sigmas[i + 1] > 0 else y_euler
        y = step(eps_fn, y, sigmas[i].expand(3), sigmas[i + 1].expand(3))
    y = y / (1 + sigmas[-1] ** 2).sqrt()
    err = ((out - y).abs().max() / y.abs().max()).item()
    assert err < 1e-10, (
        "Heun sampler differs from successive Heun steps (relative "
        f"error {err:.2e}) for sigmas ending at {float(sigmas[-1])}; "
        "the step that ends at sigma = 0 is an Euler step"
    )
    expected_calls = 2 * n - 1 if sigmas[-1] == 0 else 2 * n
    assert len(calls) == expected_calls, (
        f"the Heun sampler made {len(calls)} model evaluations for "
        f"{n} steps, expected {expected_calls}"
    )

# %%
# HIDDEN
import torch

mu = torch.tensor([1.0, -0.5], dtype=torch.float64)
s0 = 0.5


def gauss_eps(x, sigma):
    sg = sigma.reshape(-1, 1)
    y = x * (1 + sg**2).sqrt()
    return sg * (y - mu) / (s0**2 + sg**2)


def exact_y(y_start, a, b):
    return mu + (y_start - mu) * ((s0**2 + b**2) / (s0**2 + a**2)) ** 0.5


def exact_x(x_start, a, b):
    return exact_y(x_start * (1 + a**2) ** 0.5, a, b) / (1 + b**2) ** 0.5


x_T = torch.randn(64, 2, generator=torch.Generator().manual_seed(53), dtype=torch.float64)


def grid(n):
    i = torch.arange(n + 1, dtype=torch.float64) / n
    return (80.0 ** (1 / 7) + i * (0.002 ** (1 / 7) - 80.0 ** (1 / 7))) ** 7


def error(method, n):
    sig = grid(n)
    out = pf_ode_sample(gauss_eps, x_T, sig, method)
    y_end = exact_y(x_T * (1 + sig[0] ** 2).sqrt(), sig[0], sig[-1])
    return (out - y_end / (1 + sig[-1] ** 2).sqrt()).abs().max().item()


r_euler = error("euler", 32) / error("euler", 64)
r_heun = error("heun", 32) / error("heun", 64)
assert 1.6 < r_euler < 2.5, (
    f"doubling the Euler steps divides the error by {r_euler:.2f}; "
    "a first-order method gives about 2"
)
assert 3.3 < r_heun < 5.0, (
    f"doubling the Heun steps divides the error by {r_heun:.2f}; "
    "a second-order method gives about 4"
)

# %%
# HIDDEN
import torch


def eps_fn(x, sigma):
    s = sigma.reshape(-1, *[1] * (x.dim() - 1))
    return torch.tanh(x) * s / (1 + s) + 0.1 * x**2 - 0.05 * s.sqrt()


def bshape(v, y):
    return v.reshape(-1, *[1] * (y.dim() - 1))


def y_euler(f, y, s, s2):
    return y + (bshape(s2, y) - bshape(s, y)) * f(y / (1 + bshape(s, y) ** 2).sqrt(), s)


def y_heun(f, y, s, s2):
    d = f(y / (1 + bshape(s, y) ** 2).sqrt(), s)
    y1 = y + (bshape(s2, y) - bshape(s, y)) * d
    d2 = f(y1 / (1 + bshape(s2, y) ** 2).sqrt(), s2)
    return y + (bshape(s2, y) - bshape(s, y)) * (d + d2) / 2


g = torch.Generator().manual_seed(54)
x_T = torch.randn(2, 2, generator=g)
sigmas = torch.tensor([4.0, 1.0, 0.2, 0.0])
out = pf_ode_sample(eps_fn, x_T, sigmas, "heun")
assert out.dtype == torch.float32, "a float32 x_T must give a float32 output"
y = x_T.double() * (1 + 16.0) ** 0.5
s64 = sigmas.double()
for i in range(3):
    step = y_heun if s64[i + 1] > 0 else y_euler
    y = step(eps_fn, y, s64[i].expand(2), s64[i + 1].expand(2))
err = ((out.double() - y).abs().max() / y.abs().max()).item()
assert err < 1e-5, f"wrong result for a batch of 2 points in 2D, float32 (relative error {err:.2e})"

# %%
# HIDDEN
# The default method, arguments left untouched, a batch of one, float32 data with float64 sigmas.
import torch


def eps_fn(x, sigma):
    s = sigma.reshape(-1, *[1] * (x.dim() - 1)).to(x.dtype)
    return torch.tanh(x) * s / (1 + s) + 0.1 * x


def y_euler_path(x_T, sigmas):
    y = x_T.double() * (1 + sigmas[0] ** 2) ** 0.5
    for i in range(len(sigmas) - 1):
        s, s2 = sigmas[i].reshape(1), sigmas[i + 1].reshape(1)
        y = y + (s2 - s) * eps_fn(y / (1 + s**2) ** 0.5, s.expand(y.shape[0]))
    return y / (1 + sigmas[-1] ** 2) ** 0.5


g = torch.Generator().manual_seed(55)
x_T = torch.randn(1, 1, 2, 2, generator=g, dtype=torch.float64)
sigmas = torch.tensor([6.0, 2.0, 0.5, 0.1], dtype=torch.float64)
saved = [x_T.clone(), sigmas.clone()]
out = pf_ode_sample(eps_fn, x_T, sigmas)
assert isinstance(out, torch.Tensor) and out.shape == (1, 1, 2, 2), (
    "a batch of one image (1, C, H, W) must give a result of shape (1, C, H, W)"
)
assert torch.equal(x_T, saved[0]) and torch.equal(sigmas, saved[1]), (
    "pf_ode_sample changed x_T or sigmas in place: build new tensors instead"
)
ref = y_euler_path(saved[0], saved[1])
assert (out - ref).abs().max().item() < 1e-10, (
    "pf_ode_sample called without a method must use the default, Euler steps"
)
x32 = torch.randn(3, 2, generator=g)
out32 = pf_ode_sample(eps_fn, x32, sigmas, "heun")
assert out32.dtype == torch.float32, (
    "float32 x_T with float64 sigmas must give float32 samples: the output has the dtype of x_T"
)


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **The ODE in action.** Below, the noise predictor is the exact one of the ring mixture, $\hat\epsilon(x, \sigma) = -\sqrt{1-\bar\alpha}\,\nabla\log p_t(x)$ with $\bar\alpha = 1/(1+\sigma^2)$ (Question 2), and the noise levels follow Karras et al. (2022): $\sigma_i = \big(\sigma_{\max}^{1/\rho} + \tfrac{i}{N-1}(\sigma_{\min}^{1/\rho} - \sigma_{\max}^{1/\rho})\big)^\rho$ for $i = 0, \dots, N-1$ (so $\sigma_0 = \sigma_{\max}$ and $\sigma_{N-1} = \sigma_{\min}$) with $\rho = 7$, followed by a last step to $\sigma = 0$. The figure shows the paths of 40 particles in $x$ coordinates, from Gaussian noise to the data. Each path is deterministic: the same $x_T$ always gives the same sample.


# %%
def mixture_eps(mixture):
    # eps_fn(x, sigma) of the exact noise predictor of a mixture: -sqrt(1 - abar) * score.
    def eps_fn(x, sigma):
        abar = 1.0 / (1.0 + sigma**2)  # (B,)
        return -(1 - abar).sqrt().reshape(-1, 1) * gmm_noised_score(x, abar, mixture)

    return eps_fn


def karras_sigmas(n, sigma_min=0.002, sigma_max=80.0, rho=7.0, final_zero=True):
    # n noise levels from sigma_max to sigma_min (Karras et al., 2022), plus a final 0.
    i = torch.arange(n, dtype=torch.float64) / max(n - 1, 1)
    sigmas = (sigma_max ** (1 / rho) + i * (sigma_min ** (1 / rho) - sigma_max ** (1 / rho))) ** rho
    return torch.cat([sigmas, torch.zeros(1, dtype=torch.float64)]) if final_zero else sigmas


ring_eps = mixture_eps(mixture)
sigmas = karras_sigmas(40)
x_T = torch.randn(40, 2, generator=torch.Generator().manual_seed(20), dtype=torch.float64)
path = [x_T]
for i in range(len(sigmas) - 1):
    s, s_next = sigmas[i].expand(40), sigmas[i + 1].expand(40)
    x, eps = path[-1], ring_eps(path[-1], s)
    if sigmas[i + 1] > 0:
        path.append(heun_step(x, eps, s, s_next, lambda x_pred, s=s_next: ring_eps(x_pred, s)))
    else:
        path.append(euler_step(x, eps, s, s_next))
path = torch.stack(path)  # (steps + 1, 40, 2)

fig, ax = plt.subplots(figsize=(5, 5))
ax.scatter(data[:, 0], data[:, 1], s=1, alpha=0.2, color="tab:blue")
for j in range(40):
    ax.plot(path[:, j, 0], path[:, j, 1], color="tab:red", lw=0.8, alpha=0.7)
ax.scatter(path[0, :, 0], path[0, :, 1], s=8, color="black", label="$x_T$ (noise)")
ax.scatter(path[-1, :, 0], path[-1, :, 1], s=8, color="tab:red", label="ODE samples")
ax.set_aspect("equal")
ax.legend(loc="upper right")
plt.show()

# %% [raw]
# # BEGIN QUESTION
# name: q9
# manual: true
# points: 3

# %% [markdown]
# ### Question 9 [written, code, 3 points]: order of convergence
#
# For Gaussian data $x_0 \sim \mathcal N(\mu, s^2 I)$, the ODE can be solved exactly: $p_\sigma = \mathcal N(\mu, (s^2+\sigma^2) I)$, $\hat\epsilon = \sigma\,(y - \mu)/(s^2 + \sigma^2)$, and the flow is affine,
# $$y(\sigma') = \mu + \big(y(\sigma) - \mu\big)\sqrt{\frac{s^2 + \sigma'^2}{s^2 + \sigma^2}} .$$
# The cell below defines these two functions for $\mu = (1, -0.5)$ and $s = 0.5$.
#
# (a) In the code cell, for $N \in \{4, 8, 16, 32, 64, 128\}$ steps on the grid `karras_sigmas(N + 1, final_zero=False)` (from $\sigma_{\max} = 80$ to $\sigma_{\min} = 0.002$, no final zero), run `pf_ode_sample` with Euler and with Heun from the same 256 starting points $x_T$, and compute the error $\max |x_{\text{ODE}} - x_{\text{exact}}|$ at $\sigma_{\min}$. Plot the error against $N$ on log-log axes for both methods, and estimate each slope by a least-squares fit of $\log(\text{error})$ on $\log N$.
#
# (b) In the markdown cell: report the slopes and explain what they mean. Which method is more accurate **for the same number of model evaluations** (Heun uses two per step)?

# %%
mu_gauss = torch.tensor([1.0, -0.5], dtype=torch.float64)
s_gauss = 0.5


def gauss_eps(x, sigma):
    s = sigma.reshape(-1, 1)
    y = x * (1 + s**2).sqrt()
    return s * (y - mu_gauss) / (s_gauss**2 + s**2)


def gauss_exact_flow(x_T, sigma_start, sigma_end):
    # x_T in x coordinates at sigma_start -> exact solution in x coordinates at sigma_end
    y = x_T * math.sqrt(1 + sigma_start**2)
    y_end = mu_gauss + (y - mu_gauss) * math.sqrt(
        (s_gauss**2 + sigma_end**2) / (s_gauss**2 + sigma_start**2)
    )
    return y_end / math.sqrt(1 + sigma_end**2)


# %% [raw]
# # BEGIN SOLUTION

# %%
# BEGIN SOLUTION
x_T = torch.randn(256, 2, generator=torch.Generator().manual_seed(30), dtype=torch.float64)
steps = [4, 8, 16, 32, 64, 128]
errors = {"euler": [], "heun": []}
for n in steps:
    sig = karras_sigmas(n + 1, final_zero=False)
    exact = gauss_exact_flow(x_T, float(sig[0]), float(sig[-1]))
    for method in errors:
        errors[method].append(
            (pf_ode_sample(gauss_eps, x_T, sig, method) - exact).abs().max().item()
        )

fig, ax = plt.subplots(figsize=(5, 4))
for method, errs in errors.items():
    slope = np.polyfit(np.log(steps), np.log(errs), 1)[0]
    ax.loglog(steps, errs, "o-", label=f"{method}: slope {slope:.2f}")
ax.set_xlabel("number of steps N")
ax.set_ylabel("max error at sigma_min")
ax.legend()
plt.show()
# END SOLUTION

# %% [markdown]
# **Answer.** Euler's error falls with slope about $-1$ (error $\propto 1/N$: a first-order method) and Heun's with slope about $-2$ (error $\propto 1/N^2$: second order); the first points deviate a little because 4 steps are far from the asymptotic regime. For the same number of model evaluations $E$, Euler has $N = E$ steps and error $\approx C_1/E$, Heun has $N \approx E/2$ steps and error $\approx 4C_2/E^2$; from the plot, Heun with $N$ steps ($2N-1$ evaluations) beats Euler with $2N$ steps at every $N \ge 8$, by a factor that grows with $N$. So Heun is more accurate per model evaluation except with very few steps.
#
# Rubric (3 points):
# - 1 pt: correct experiment and log-log figure with both methods (same starting points and grids), slopes estimated by a fit.
# - 1 pt: slopes about $-1$ (Euler) and $-2$ (Heun), interpreted as orders of convergence (global error $O(h)$ and $O(h^2)$).
# - 1 pt: comparison at equal number of evaluations, counting two per Heun step.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [markdown]
# ---
# ## Part 4. DDIM and fast sampling
#
# DDPM's sampler needs one model evaluation per training step ($T = 1000$). **DDIM** (Song, Meng and Ermon, 2021) samples with a subsequence of timesteps $t_1 > t_2 > \dots > t_N$, and a parameter $\eta \ge 0$ that interpolates between a deterministic sampler ($\eta = 0$) and a DDPM-like stochastic one ($\eta = 1$). One step from $t$ to $t_{\text{prev}} < t$ (where $t_{\text{prev}} = -1$ means the final step to clean data, $\bar\alpha_{-1} = 1$), with the model's prediction $\hat\epsilon = \epsilon_\theta(x_t, t)$ and fresh noise $z \sim \mathcal N(0, I)$:
# $$\hat x_0 = \frac{x_t - \sqrt{1-\bar\alpha_t}\,\hat\epsilon}{\sqrt{\bar\alpha_t}}, \qquad
# \sigma_t(\eta) = \eta\,\sqrt{\frac{1-\bar\alpha_{t_{\text{prev}}}}{1-\bar\alpha_t}}\,\sqrt{1 - \frac{\bar\alpha_t}{\bar\alpha_{t_{\text{prev}}}}},$$
# $$x_{t_{\text{prev}}} = \sqrt{\bar\alpha_{t_{\text{prev}}}}\;\hat x_0 + \sqrt{1 - \bar\alpha_{t_{\text{prev}}} - \sigma_t(\eta)^2}\;\hat\epsilon + \sigma_t(\eta)\, z .$$
# (Here $\sigma_t(\eta)$ is DDIM's noise standard deviation, not the noise-to-signal ratio $\sigma_t$ of Part 3.) With $t_{\text{prev}} = t - 1$ and $\eta = 1$ this is exactly the DDPM step of problem set 1.

# %% [raw]
# # BEGIN QUESTION
# name: q10
# points: 10

# %% [markdown]
# ### Question 10 [autograded, 10 points]: the DDIM step
#
# Write `ddim_step(model_output, t, t_prev, x_t, alphas_cumprod, eta=0.0, noise=None)` (the same signature as the course library's, for $\epsilon$-prediction).
#
# - `model_output` $= \hat\epsilon$ and `x_t`: shape $(B, \dots)$; `t`, `t_prev`: `torch.long` tensors of shape $(B,)$ with $0 \le$ `t_prev` $<$ `t` $\le T-1$ per sample, or `t_prev` $= -1$ (read $\bar\alpha_{-1} = 1$; never index `alphas_cumprod[-1]` for it); `eta`: a Python float $\ge 0$; `noise`: $z$, the shape of `x_t`, required when `eta > 0` (ignored when `eta == 0`, when it may be `None`).
# - Returns $x_{t_{\text{prev}}}$ with the shape and dtype of `x_t`.

# %% [raw]
# # BEGIN SOLUTION


# %%
def ddim_step(model_output, t, t_prev, x_t, alphas_cumprod, eta=0.0, noise=None):
    """One DDIM step from t to t_prev (t_prev = -1: the final step to abar = 1)."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q10: write ddim_step")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    if eta > 0 and noise is None:
        raise ValueError("noise is required when eta > 0")
    shape = (-1,) + (1,) * (x_t.dim() - 1)  # per-sample coefficients broadcast over data dims
    abar_t = alphas_cumprod[t].reshape(shape)
    one = torch.ones((), dtype=alphas_cumprod.dtype, device=alphas_cumprod.device)
    abar_prev = torch.where(t_prev >= 0, alphas_cumprod[t_prev.clamp(min=0)], one).reshape(shape)
    eps = model_output
    x0_hat = (x_t - (1 - abar_t).sqrt() * eps) / abar_t.sqrt()
    sigma = eta * ((1 - abar_prev) / (1 - abar_t)).sqrt() * (1 - abar_t / abar_prev).sqrt()
    x_prev = abar_prev.sqrt() * x0_hat + (1 - abar_prev - sigma**2).sqrt() * eps
    if eta > 0:
        x_prev = x_prev + sigma * noise
    return x_prev
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

ac = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), dim=0)
x = torch.tensor([[0.5, -1.0], [2.0, 0.3], [-0.7, 1.1]], dtype=torch.float64)
eps = torch.tensor([[0.1, 0.2], [-0.3, 0.4], [1.0, -1.0]], dtype=torch.float64)
t = torch.tensor([10, 10, 10])
out = ddim_step(eps, t, torch.full((3,), -1), x, ac, eta=0.0)
assert isinstance(out, torch.Tensor), "ddim_step must return a torch.Tensor"
assert out.shape == x.shape, f"expected shape {tuple(x.shape)}, got {tuple(out.shape)}"
assert out.dtype == torch.float64, "a float64 input must give a float64 output"
x0_hat = (x - (1 - ac[10]).sqrt() * eps) / ac[10].sqrt()
assert (out - x0_hat).abs().max().item() < 1e-9, (
    "the last step (t_prev = -1, eta = 0) must return the predicted clean sample x0_hat"
)

# %%
# HIDDEN
import torch

ac = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), dim=0)


def ref_ddim(eps, t, tp, x, ac, eta, noise):
    out = torch.empty_like(x)
    for b in range(x.shape[0]):
        at = ac[t[b]]
        ap = ac[tp[b]] if tp[b] >= 0 else torch.ones((), dtype=ac.dtype)
        x0 = (x[b] - (1 - at).sqrt() * eps[b]) / at.sqrt()
        sig = eta * ((1 - ap) / (1 - at)).sqrt() * (1 - at / ap).sqrt()
        out[b] = ap.sqrt() * x0 + (1 - ap - sig**2).sqrt() * eps[b]
        if eta > 0:
            out[b] = out[b] + sig * noise[b]
    return out


g = torch.Generator().manual_seed(61)
x = torch.randn(5, 3, generator=g, dtype=torch.float64)
eps = torch.randn(5, 3, generator=g, dtype=torch.float64)
t = torch.tensor([999, 500, 37, 1, 0])
tp = torch.tensor([949, 300, 36, -1, -1])
out = ddim_step(eps, t, tp, x, ac, eta=0.0)
assert isinstance(out, torch.Tensor) and out.shape == x.shape and out.dtype == torch.float64, (
    "the output must be a float64 tensor of the shape of x_t"
)
ref = ref_ddim(eps, t, tp, x, ac, 0.0, None)
err = ((out - ref).abs().max() / ref.abs().max()).item()
assert err < 1e-9, (
    f"wrong deterministic DDIM step (relative error {err:.2e}): "
    "check x0_hat, the per-sample abar at t and at t_prev, and "
    "abar = 1 where t_prev = -1"
)

# %%
# HIDDEN
import torch

ac = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), dim=0)


def ref_ddim(eps, t, tp, x, ac, eta, noise):
    out = torch.empty_like(x)
    for b in range(x.shape[0]):
        at = ac[t[b]]
        ap = ac[tp[b]] if tp[b] >= 0 else torch.ones((), dtype=ac.dtype)
        x0 = (x[b] - (1 - at).sqrt() * eps[b]) / at.sqrt()
        sig = eta * ((1 - ap) / (1 - at)).sqrt() * (1 - at / ap).sqrt()
        out[b] = ap.sqrt() * x0 + (1 - ap - sig**2).sqrt() * eps[b]
        if eta > 0:
            out[b] = out[b] + sig * noise[b]
    return out


g = torch.Generator().manual_seed(62)
x = torch.randn(5, 3, generator=g, dtype=torch.float64)
eps = torch.randn(5, 3, generator=g, dtype=torch.float64)
noise = torch.randn(5, 3, generator=g, dtype=torch.float64)
t = torch.tensor([999, 500, 37, 5, 1])
tp = torch.tensor([979, 499, 17, -1, 0])
out = ddim_step(eps, t, tp, x, ac, eta=0.5, noise=noise)
ref = ref_ddim(eps, t, tp, x, ac, 0.5, noise)
err = ((out - ref).abs().max() / ref.abs().max()).item()
assert err < 1e-9, (
    f"wrong DDIM step with eta = 0.5 (relative error {err:.2e}): "
    "check the noise scale sigma_t(eta) (eta enters linearly; "
    "mind the square roots) and the coefficient of eps_hat"
)

# %%
# HIDDEN
import torch

ac = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), dim=0)


def ref_ddim(eps, t, tp, x, ac, eta, noise):
    out = torch.empty_like(x)
    for b in range(x.shape[0]):
        at = ac[t[b]]
        ap = ac[tp[b]] if tp[b] >= 0 else torch.ones((), dtype=ac.dtype)
        x0 = (x[b] - (1 - at).sqrt() * eps[b]) / at.sqrt()
        sig = eta * ((1 - ap) / (1 - at)).sqrt() * (1 - at / ap).sqrt()
        out[b] = ap.sqrt() * x0 + (1 - ap - sig**2).sqrt() * eps[b]
        if eta > 0:
            out[b] = out[b] + sig * noise[b]
    return out


g = torch.Generator().manual_seed(63)
x = torch.randn(4, 2, generator=g, dtype=torch.float64)
eps = torch.randn(4, 2, generator=g, dtype=torch.float64)
noise = torch.randn(4, 2, generator=g, dtype=torch.float64)
t = torch.tensor([999, 400, 120, 3])
tp = torch.tensor([998, 399, 60, 2])
out = ddim_step(eps, t, tp, x, ac, eta=1.0, noise=noise)
ref = ref_ddim(eps, t, tp, x, ac, 1.0, noise)
err = ((out - ref).abs().max() / ref.abs().max()).item()
assert err < 1e-9, (
    f"wrong DDIM step with eta = 1 (relative error {err:.2e}); "
    "with t_prev = t - 1 it must equal the DDPM step"
)

# %%
# HIDDEN
import torch

ac = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), dim=0)


def ref_ddim(eps, t, tp, x, ac, eta, noise):
    out = torch.empty_like(x)
    for b in range(x.shape[0]):
        at = ac[t[b]]
        ap = ac[tp[b]] if tp[b] >= 0 else torch.ones((), dtype=ac.dtype)
        x0 = (x[b] - (1 - at).sqrt() * eps[b]) / at.sqrt()
        sig = eta * ((1 - ap) / (1 - at)).sqrt() * (1 - at / ap).sqrt()
        out[b] = ap.sqrt() * x0 + (1 - ap - sig**2).sqrt() * eps[b]
        if eta > 0:
            out[b] = out[b] + sig * noise[b]
    return out


g = torch.Generator().manual_seed(64)
for shape in [(2, 2), (3, 1, 2, 2)]:
    x = torch.randn(*shape, generator=g, dtype=torch.float64)
    eps = torch.randn(*shape, generator=g, dtype=torch.float64)
    noise = torch.randn(*shape, generator=g, dtype=torch.float64)
    t = torch.tensor([900, 250, 20][: shape[0]])
    tp = torch.tensor([700, 100, -1][: shape[0]])
    out = ddim_step(eps, t, tp, x, ac, eta=0.5, noise=noise)
    ref = ref_ddim(eps, t, tp, x, ac, 0.5, noise)
    assert out.shape == x.shape, f"for x_t of shape {shape} the output has shape {tuple(out.shape)}"
    err = ((out - ref).abs().max() / ref.abs().max()).item()
    assert err < 1e-9, (
        f"wrong step for x_t of shape {shape}: per-sample coefficients "
        "of shape (B,) must be reshaped to broadcast over all non-batch "
        "dimensions"
    )

# %%
# HIDDEN
import torch

ac = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), dim=0)


def ref_ddim(eps, t, tp, x, ac, eta, noise):
    out = torch.empty_like(x)
    for b in range(x.shape[0]):
        at = ac[t[b]]
        ap = ac[tp[b]] if tp[b] >= 0 else torch.ones((), dtype=ac.dtype)
        x0 = (x[b] - (1 - at).sqrt() * eps[b]) / at.sqrt()
        sig = eta * ((1 - ap) / (1 - at)).sqrt() * (1 - at / ap).sqrt()
        out[b] = ap.sqrt() * x0 + (1 - ap - sig**2).sqrt() * eps[b]
        if eta > 0:
            out[b] = out[b] + sig * noise[b]
    return out


g = torch.Generator().manual_seed(65)
x = torch.randn(4, 2, generator=g)
eps = torch.randn(4, 2, generator=g)
noise = torch.randn(4, 2, generator=g)
t = torch.tensor([900, 400, 50, 3])
tp = torch.tensor([800, 200, 10, -1])
out = ddim_step(eps, t, tp, x, ac.float(), eta=0.5, noise=noise)
assert out.dtype == torch.float32, "float32 inputs and schedule must give a float32 output"
ref = ref_ddim(eps.double(), t, tp, x.double(), ac, 0.5, noise.double())
err = ((out.double() - ref).abs().max() / ref.abs().max()).item()
assert err < 1e-4, f"the float32 DDIM step is inaccurate (relative error {err:.2e})"

# %%
# HIDDEN
# Defaults (eta = 0, no noise), arguments untouched, a batch of one, noise ignored when eta = 0.
import torch

ac = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), dim=0)
g = torch.Generator().manual_seed(66)
x = torch.randn(1, 1, 2, 2, generator=g, dtype=torch.float64)
eps = torch.randn(1, 1, 2, 2, generator=g, dtype=torch.float64)
noise = torch.randn(1, 1, 2, 2, generator=g, dtype=torch.float64)
t = torch.tensor([640])
tp = torch.tensor([320])
saved = [u.clone() for u in (eps, t, tp, x, ac, noise)]
out = ddim_step(eps, t, tp, x, ac)
assert isinstance(out, torch.Tensor) and out.shape == (1, 1, 2, 2), (
    "a batch of one image (1, C, H, W) must give a result of shape (1, C, H, W)"
)
at, ap = ac[640], ac[320]
x0 = (x - (1 - at).sqrt() * eps) / at.sqrt()
ref = ap.sqrt() * x0 + (1 - ap).sqrt() * eps
assert (out - ref).abs().max().item() < 1e-9, (
    "ddim_step called without eta and noise must take the deterministic step (eta = 0 by default)"
)
out_n = ddim_step(eps, t, tp, x, ac, eta=0.0, noise=noise)
assert (out_n - ref).abs().max().item() < 1e-9, "with eta = 0 the noise argument must be ignored"
out_s = ddim_step(eps, t, tp, x, ac, eta=0.8, noise=noise)
assert all(torch.equal(u, v) for u, v in zip((eps, t, tp, x, ac, noise), saved, strict=True)), (
    "ddim_step changed one of its arguments in place: compute new tensors instead"
)
assert t.dtype == torch.int64 and tp.dtype == torch.int64 and out_s.shape == x.shape, (
    "the timesteps must stay LongTensors and the result keep the shape of x_t"
)


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ### Timestep spacings
#
# Which $N$ timesteps to use out of $\{0, \dots, T-1\}$ is a choice, and it matters (Lin et al., 2024, "Common diffusion noise schedules and sample steps are flawed"). The three spacings of the `diffusers` library, all returned in **decreasing** order as `torch.long`:
#
# - `"leading"`: $t_i = i\,\lfloor T/N \rfloor$ for $i = 0, \dots, N-1$. For $T = 1000$, $N = 10$: $900, 800, \dots, 100, 0$. The first step is at $t = 900$, not $999$.
# - `"trailing"`: $t_i = \operatorname{round}\!\big(T - i\,T/N\big) - 1$ for $i = 0, \dots, N-1$. For $N = 10$: $999, 899, \dots, 199, 99$. It starts at the last training step.
# - `"linspace"`: $N$ evenly spaced values from $0$ to $T-1$ (inclusive), rounded to the nearest integer. For $N = 10$: $999, 888, 777, \dots, 111, 0$.
#
# Round with `torch.round` or `numpy.round` (ties go to the even integer) on float64 values.

# %% [raw]
# # BEGIN QUESTION
# name: q11a
# points: 5

# %% [markdown]
# ### Question 11a [autograded, 5 points]: `timesteps`
#
# Write `timesteps(num_steps, T=1000, spacing="leading")` that returns the decreasing `torch.long` tensor of shape `(num_steps,)` of the given spacing, and raises a `ValueError` for any other value of `spacing`.

# %% [raw]
# # BEGIN SOLUTION


# %%
def timesteps(num_steps, T=1000, spacing="leading"):
    """The num_steps timesteps of a sampler, decreasing, in one of diffusers' three spacings."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q11a: write timesteps")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    i = torch.arange(num_steps, dtype=torch.float64)
    if spacing == "leading":
        ts = i * (T // num_steps)
    elif spacing == "trailing":
        ts = torch.round(T - i * T / num_steps) - 1
        return ts.long()  # already decreasing
    elif spacing == "linspace":
        ts = torch.round(torch.linspace(0, T - 1, num_steps, dtype=torch.float64))
    else:
        raise ValueError(f"spacing must be 'leading', 'trailing' or 'linspace', got {spacing!r}")
    return ts.flip(0).long()
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

ts = timesteps(10, 1000, "leading")
assert isinstance(ts, torch.Tensor), "timesteps must return a torch.Tensor"
assert ts.dtype == torch.long, f"timesteps must be torch.long, got {ts.dtype}"
assert ts.shape == (10,), f"expected shape (10,), got {tuple(ts.shape)}"
assert bool((ts[1:] < ts[:-1]).all()), "timesteps must be strictly decreasing"
assert 0 <= int(ts.min()) and int(ts.max()) <= 999, "timesteps must lie in 0..T-1"

# %%
# HIDDEN
import numpy as np
import torch


def ref_timesteps(n, n_train, spacing):
    if spacing == "leading":
        return (np.arange(0, n) * (n_train // n))[::-1].astype(np.int64)
    if spacing == "trailing":
        return (np.round(np.arange(n_train, 0, -n_train / n)) - 1).astype(np.int64)
    return np.linspace(0, n_train - 1, n).round()[::-1].astype(np.int64)


for n, n_train in [(10, 1000), (50, 1000), (7, 1000), (13, 1000), (3, 100), (9, 200)]:
    ts = timesteps(n, n_train, "leading")
    assert isinstance(ts, torch.Tensor) and ts.dtype == torch.long, (
        "timesteps must return a torch.long tensor"
    )
    assert ts.tolist() == ref_timesteps(n, n_train, "leading").tolist(), (
        f"wrong leading timesteps for num_steps = {n}, T = {n_train}: "
        "they are multiples of T // num_steps, starting at 0"
    )

# %%
# HIDDEN
import numpy as np
import torch


def ref_timesteps(n, n_train, spacing):
    if spacing == "leading":
        return (np.arange(0, n) * (n_train // n))[::-1].astype(np.int64)
    if spacing == "trailing":
        return (np.round(np.arange(n_train, 0, -n_train / n)) - 1).astype(np.int64)
    return np.linspace(0, n_train - 1, n).round()[::-1].astype(np.int64)


for n, n_train in [(10, 1000), (50, 1000), (16, 1000), (7, 1000), (13, 1000), (3, 100), (9, 200)]:
    ts = timesteps(n, n_train, "trailing")
    assert ts.tolist() == ref_timesteps(n, n_train, "trailing").tolist(), (
        f"wrong trailing timesteps for num_steps = {n}, T = {n_train}: "
        "the first one must be T - 1 and the spacing T / num_steps "
        "(rounded)"
    )

# %%
# HIDDEN
import numpy as np
import torch


def ref_timesteps(n, n_train, spacing):
    if spacing == "leading":
        return (np.arange(0, n) * (n_train // n))[::-1].astype(np.int64)
    if spacing == "trailing":
        return (np.round(np.arange(n_train, 0, -n_train / n)) - 1).astype(np.int64)
    return np.linspace(0, n_train - 1, n).round()[::-1].astype(np.int64)


for n, n_train in [(10, 1000), (50, 1000), (3, 1000), (7, 1000), (13, 1000), (7, 100), (9, 200)]:
    ts = timesteps(n, n_train, "linspace")
    assert ts.tolist() == ref_timesteps(n, n_train, "linspace").tolist(), (
        f"wrong linspace timesteps for num_steps = {n}, T = {n_train}: "
        "evenly spaced from T - 1 down to 0, rounded to the nearest "
        "integer"
    )

# %%
# HIDDEN
import torch

raised = False
try:
    timesteps(10, 1000, "uniform")
except ValueError:
    raised = True
assert raised, "an unknown spacing must raise a ValueError"

# %%
# HIDDEN
# Defaults (T = 1000, leading), and the edge cases num_steps = 1 and num_steps = T.
import numpy as np
import torch


def ref_timesteps(n, n_train, spacing):
    if spacing == "leading":
        return (np.arange(0, n) * (n_train // n))[::-1].astype(np.int64)
    if spacing == "trailing":
        return (np.round(np.arange(n_train, 0, -n_train / n)) - 1).astype(np.int64)
    return np.linspace(0, n_train - 1, n).round()[::-1].astype(np.int64)


for n in (10, 7):
    ts = timesteps(n)
    assert isinstance(ts, torch.Tensor) and ts.dtype == torch.long, (
        "timesteps must return a torch.long tensor"
    )
    assert ts.tolist() == ref_timesteps(n, 1000, "leading").tolist(), (
        "timesteps(num_steps) must use the defaults T = 1000 and the leading spacing"
    )
assert timesteps(6, 60).tolist() == ref_timesteps(6, 60, "leading").tolist(), (
    "timesteps(num_steps, T) must use the leading spacing by default"
)
for spacing in ("leading", "trailing", "linspace"):
    for n, n_train in ((1, 1000), (50, 50), (1, 20)):
        ts = timesteps(n, n_train, spacing)
        assert isinstance(ts, torch.Tensor) and ts.dtype == torch.long and ts.shape == (n,), (
            "timesteps must return a torch.long tensor of shape (num_steps,) for every spacing"
        )
        assert ts.tolist() == ref_timesteps(n, n_train, spacing).tolist(), (
            "wrong timesteps at an edge case (a single step, or as many steps as T): check the "
            "first and last timestep of each spacing"
        )


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q11b
# points: 5

# %% [markdown]
# ### Question 11b [autograded, 5 points]: the DDIM sampler
#
# Write `ddim_sample(model, shape, alphas_cumprod, num_steps, generator, eta=0.0, spacing="leading")`.
#
# - Start from $x \sim \mathcal N(0, I)$ of the given `shape`, drawn from `generator` in the dtype and on the device of `alphas_cumprod`.
# - Visit `timesteps(num_steps, T, spacing)` with $T$ = `len(alphas_cumprod)`. At each timestep call `model(x, t)` with `t` a `torch.long` tensor of shape $(B,)$ (every entry equal to the current timestep), then take a `ddim_step` to the next timestep of the list, or to $-1$ after the last one. When `eta > 0`, draw each step's noise from `generator`.
# - Return the final $x$.

# %% [raw]
# # BEGIN SOLUTION


# %%
def ddim_sample(model, shape, alphas_cumprod, num_steps, generator, eta=0.0, spacing="leading"):
    """DDIM sampling with num_steps model evaluations; returns x at t = -1 (clean)."""
    """ # BEGIN PROMPT
    raise NotImplementedError("q11b: write ddim_sample")
    """  # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    kw = dict(dtype=alphas_cumprod.dtype, device=alphas_cumprod.device)
    x = torch.randn(shape, generator=generator, **kw)  # x_T ~ N(0, I)
    ts = timesteps(num_steps, len(alphas_cumprod), spacing).tolist()
    B = shape[0]
    for i, t in enumerate(ts):
        t_prev = ts[i + 1] if i + 1 < len(ts) else -1
        t_b = torch.full((B,), t, dtype=torch.long, device=x.device)  # (B,)
        t_prev_b = torch.full((B,), t_prev, dtype=torch.long, device=x.device)
        eps = model(x, t_b)
        noise = torch.randn(shape, generator=generator, **kw) if eta > 0 else None
        x = ddim_step(eps, t_b, t_prev_b, x, alphas_cumprod, eta=eta, noise=noise)
    return x
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
import torch

ac = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), dim=0)
out = ddim_sample(lambda x, t: torch.zeros_like(x), (6, 2), ac, 5, torch.Generator().manual_seed(0))
assert isinstance(out, torch.Tensor), "ddim_sample must return a torch.Tensor"
assert out.shape == (6, 2), f"expected shape (6, 2), got {tuple(out.shape)}"
assert out.dtype == torch.float64, "a float64 schedule must give float64 samples"
assert bool(torch.isfinite(out).all()), "the samples are not finite"

# %%
# HIDDEN
import numpy as np
import torch

ac = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), dim=0)


def ref_ddim(eps, t, tp, x, ac, eta, noise):
    out = torch.empty_like(x)
    for b in range(x.shape[0]):
        at = ac[t[b]]
        ap = ac[tp[b]] if tp[b] >= 0 else torch.ones((), dtype=ac.dtype)
        x0 = (x[b] - (1 - at).sqrt() * eps[b]) / at.sqrt()
        sig = eta * ((1 - ap) / (1 - at)).sqrt() * (1 - at / ap).sqrt()
        out[b] = ap.sqrt() * x0 + (1 - ap - sig**2).sqrt() * eps[b]
        if eta > 0:
            out[b] = out[b] + sig * noise[b]
    return out


class Recorder:
    def __init__(self):
        self.xs = []
        self.ts = []

    def __call__(self, x, t, labels=None):
        self.xs.append(x.clone())
        self.ts.append(t.clone())
        return 0.5 * torch.tanh(x) + 0.2 * (t.to(x.dtype) / 500).cos().reshape(-1, 1)


rec = Recorder()
B = 5
out = ddim_sample(rec, (B, 2), ac, 10, torch.Generator().manual_seed(1), eta=0.0, spacing="leading")
expected = list(range(900, -1, -100))
visited = [int(t[0]) for t in rec.ts]
assert visited == expected, (
    f"the model was called at timesteps {visited}, expected the leading spacing {expected}"
)
for t in rec.ts:
    assert t.dtype == torch.long and t.shape == (B,), (
        "the model must be called with t of dtype torch.long and shape (B,)"
    )
    assert bool((t == t[0]).all()), "every sample of the batch is at the same timestep"
x = rec.xs[0]
for i, t in enumerate(expected):
    tp = expected[i + 1] if i + 1 < len(expected) else -1
    eps = 0.5 * torch.tanh(x) + 0.2 * torch.full((B, 1), t / 500, dtype=torch.float64).cos()
    x = ref_ddim(eps, torch.full((B,), t), torch.full((B,), tp), x, ac, 0.0, None)
err = (out - x).abs().max().item()
assert err < 1e-9, (
    "the deterministic DDIM sample differs from successive DDIM "
    f"steps (error {err:.2e}): check the previous timestep of "
    "each step (the next one in the list, then -1)"
)

# %%
# HIDDEN
import numpy as np
import torch


def ref_ddim(eps, t, tp, x, ac, eta, noise):
    out = torch.empty_like(x)
    for b in range(x.shape[0]):
        at = ac[t[b]]
        ap = ac[tp[b]] if tp[b] >= 0 else torch.ones((), dtype=ac.dtype)
        x0 = (x[b] - (1 - at).sqrt() * eps[b]) / at.sqrt()
        sig = eta * ((1 - ap) / (1 - at)).sqrt() * (1 - at / ap).sqrt()
        out[b] = ap.sqrt() * x0 + (1 - ap - sig**2).sqrt() * eps[b]
        if eta > 0:
            out[b] = out[b] + sig * noise[b]
    return out


class Recorder:
    def __init__(self):
        self.xs = []
        self.ts = []

    def __call__(self, x, t, labels=None):
        self.xs.append(x.clone())
        self.ts.append(t.clone())
        return 0.5 * torch.tanh(x) + 0.2 * (t.to(x.dtype) / 500).cos().reshape(-1, 1)


ac200 = torch.cumprod(1 - torch.linspace(1e-3, 0.05, 200, dtype=torch.float64), dim=0)
rec = Recorder()
out = ddim_sample(
    rec, (3, 2), ac200, 7, torch.Generator().manual_seed(2), eta=0.0, spacing="trailing"
)
expected = (np.round(np.arange(200, 0, -200 / 7)) - 1).astype(np.int64).tolist()
visited = [int(t[0]) for t in rec.ts]
assert visited == expected, (
    "with T = len(alphas_cumprod) = 200 and trailing spacing "
    f"the model was called at {visited}, expected {expected}"
)
x = rec.xs[0]
for i, t in enumerate(expected):
    tp = expected[i + 1] if i + 1 < len(expected) else -1
    eps = 0.5 * torch.tanh(x) + 0.2 * torch.full((3, 1), t / 500, dtype=torch.float64).cos()
    x = ref_ddim(eps, torch.full((3,), t), torch.full((3,), tp), x, ac200, 0.0, None)
assert (out - x).abs().max().item() < 1e-9, (
    "wrong deterministic DDIM sample with a 200-step schedule"
)

# %%
# HIDDEN
import torch

ac = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), dim=0)


def ref_ddim(eps, t, tp, x, ac, eta, noise):
    out = torch.empty_like(x)
    for b in range(x.shape[0]):
        at = ac[t[b]]
        ap = ac[tp[b]] if tp[b] >= 0 else torch.ones((), dtype=ac.dtype)
        x0 = (x[b] - (1 - at).sqrt() * eps[b]) / at.sqrt()
        sig = eta * ((1 - ap) / (1 - at)).sqrt() * (1 - at / ap).sqrt()
        out[b] = ap.sqrt() * x0 + (1 - ap - sig**2).sqrt() * eps[b]
        if eta > 0:
            out[b] = out[b] + sig * noise[b]
    return out


class Recorder:
    def __init__(self):
        self.xs = []
        self.ts = []

    def __call__(self, x, t, labels=None):
        self.xs.append(x.clone())
        self.ts.append(t.clone())
        return 0.5 * torch.tanh(x) + 0.2 * (t.to(x.dtype) / 500).cos().reshape(-1, 1)


rec = Recorder()
B = 4000
out = ddim_sample(rec, (B, 2), ac, 5, torch.Generator().manual_seed(3), eta=1.0, spacing="leading")
x_T = rec.xs[0]
assert abs(x_T.mean().item()) < 0.05 and abs(x_T.var().item() - 1) < 0.06, (
    "the starting point must be standard normal noise"
)
ts = [800, 600, 400, 200, 0]
xs = rec.xs + [out]
for i in range(4):
    t, tp = ts[i], ts[i + 1]
    eps = 0.5 * torch.tanh(xs[i]) + 0.2 * torch.full((B, 1), t / 500, dtype=torch.float64).cos()
    at, ap = ac[t], ac[tp]
    sig2 = ((1 - ap) / (1 - at) * (1 - at / ap)).item()
    x0 = (xs[i] - (1 - at).sqrt() * eps) / at.sqrt()
    mean = ap.sqrt() * x0 + (1 - ap - sig2).sqrt() * eps
    ratio = (xs[i + 1] - mean).pow(2).mean().item() / sig2
    assert abs(ratio - 1) < 0.1, (
        f"step {i} of the eta = 1 sampler adds noise of variance "
        f"{ratio:.2f} times the DDIM variance: pass eta and fresh "
        "noise to every step"
    )

# %%
# HIDDEN
import torch

ac = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), dim=0)
f = lambda x, t: 0.3 * x
_ = torch.manual_seed(1)
out1 = ddim_sample(f, (50, 2), ac, 8, torch.Generator().manual_seed(7), eta=0.5)
_ = torch.manual_seed(2)
out2 = ddim_sample(f, (50, 2), ac, 8, torch.Generator().manual_seed(7), eta=0.5)
assert (out1 - out2).abs().max().item() == 0.0, (
    "two runs with equally seeded generators differ: draw all "
    "random numbers from the generator argument"
)
out32 = ddim_sample(f, (5, 2), ac.float(), 4, torch.Generator().manual_seed(7))
assert out32.dtype == torch.float32, "a float32 schedule must give float32 samples"

# %%
# HIDDEN
# Joint structure of the noise with eta = 1, the defaults (eta = 0, leading), and a batch of one.
import torch

ac = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), dim=0)
saved = ac.clone()


class Recorder:
    def __init__(self):
        self.xs = []
        self.ts = []

    def __call__(self, x, t, labels=None):
        self.xs.append(x.clone())
        self.ts.append(t.clone())
        return 0.3 * x


rec = Recorder()
B = 1000
out = ddim_sample(rec, (B, 2), ac, 5, torch.Generator().manual_seed(67), eta=1.0)
assert torch.equal(ac, saved), "ddim_sample changed alphas_cumprod in place"
ts = [800, 600, 400, 200, 0]
assert [int(t[0]) for t in rec.ts] == ts, "the default spacing must be leading"
xs = rec.xs + [out]
zs = [rec.xs[0]]
for i in range(4):
    at, ap = ac[ts[i]], ac[ts[i + 1]]
    sig = ((1 - ap) / (1 - at) * (1 - at / ap)).sqrt()
    x0 = (xs[i] - (1 - at).sqrt() * 0.3 * xs[i]) / at.sqrt()
    mean = ap.sqrt() * x0 + (1 - ap - sig**2).sqrt() * 0.3 * xs[i]
    zs.append((xs[i + 1] - mean) / sig)
z = torch.stack(zs)  # the starting noise, then the noise of each step with sigma > 0
flat = z.reshape(-1, 2)
assert torch.unique((flat * 1e6).round(), dim=0).shape[0] == flat.shape[0], (
    "two noise vectors are identical: the start and every step need fresh noise for each sample"
)
z = z / z.std()
assert abs((z[:, 1:] * z[:, :-1]).mean().item()) < 0.08, (
    "the noise is correlated between samples: draw noise of the full shape"
)
assert abs((z[1:] * z[:-1]).mean().item()) < 0.08, (
    "the noise is correlated between successive steps: draw fresh noise at every step"
)
assert abs((z[1:] * z[:1]).mean().item()) < 0.08, (
    "the step noise is correlated with the starting noise: draw fresh noise at every step"
)
assert abs((z[..., 0] * z[..., 1]).mean().item()) < 0.08, (
    "the noise is correlated between coordinates: draw noise of the full shape"
)
f = lambda x, t: 0.3 * x
out_default = ddim_sample(f, (1, 2), ac, 4, torch.Generator().manual_seed(68))
out_eta0 = ddim_sample(f, (1, 2), ac, 4, torch.Generator().manual_seed(68), eta=0.0)
assert isinstance(out_default, torch.Tensor) and out_default.shape == (1, 2), (
    "a batch of one point (1, D) must give samples of shape (1, D)"
)
assert torch.equal(out_default, out_eta0), (
    "ddim_sample without eta must be the deterministic sampler (eta = 0 by default)"
)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q12
# manual: true
# points: 8

# %% [markdown]
# ### Question 12 [written, 8 points]: DDIM is Euler's method
#
# Show that one deterministic DDIM step ($\eta = 0$) from $t$ to $t_{\text{prev}}$ is **exactly** one Euler step of the probability-flow ODE of Part 3,
# $$\frac{dy}{d\sigma} = \hat\epsilon\Big(\frac{y}{\sqrt{1+\sigma^2}}, \sigma\Big),$$
# from $\sigma_t$ to $\sigma_{t_{\text{prev}}}$, in the coordinates $y = x/\sqrt{\bar\alpha}$ and $\sigma = \sqrt{(1-\bar\alpha)/\bar\alpha}$ (with $\hat\epsilon$ the model's prediction at $t$). Then answer:
#
# (a) Why is DDIM with few steps exact when the data is a single point $x_0 = c$ (so that $\hat\epsilon$ is constant along each ODE path), and what does this suggest about why DDIM works well with few steps in practice?
#
# (b) Euler in $(y, \sigma)$ is not the same as Euler applied to the ODE written in $(x, t)$ coordinates. Which property of the $(y, \sigma)$ coordinates makes them the better choice for a first-order solver?

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# **Solution.** Write $a = \bar\alpha_t$, $a' = \bar\alpha_{t_{\text{prev}}}$, $\sigma = \sqrt{(1-a)/a}$, $\sigma' = \sqrt{(1-a')/a'}$, so $\sqrt{1-a}/\sqrt a = \sigma$ and $\sqrt{1-a'}/\sqrt{a'} = \sigma'$. With $\eta = 0$,
# $$x_{t_{\text{prev}}} = \sqrt{a'}\,\hat x_0 + \sqrt{1-a'}\,\hat\epsilon, \qquad \hat x_0 = \frac{x_t - \sqrt{1-a}\,\hat\epsilon}{\sqrt a} = y_t - \sigma\,\hat\epsilon .$$
# Divide the update by $\sqrt{a'}$: $y_{t_{\text{prev}}} = \hat x_0 + \sigma'\hat\epsilon = y_t + (\sigma' - \sigma)\,\hat\epsilon(x_t, t)$. This is Euler's step $y_{\text{next}} = y + \Delta\sigma \cdot f(y, \sigma)$ for $dy/d\sigma = \hat\epsilon$, with the slope evaluated at the network input $x_t = y_t/\sqrt{1+\sigma^2}$ (since $\sqrt a = 1/\sqrt{1+\sigma^2}$). Nothing was approximated: the two updates are equal for every $\hat\epsilon$ and every pair $t > t_{\text{prev}}$ (also $t_{\text{prev}} = -1$, where $\sigma' = 0$ and $y = x$).
#
# (a) For a single data point, $y_\sigma = c + \sigma\epsilon$ and $\mathbb E[\epsilon\mid y] = (y - c)/\sigma$; along the ODE path $dy/d\sigma = (y-c)/\sigma$ gives $y = c + \sigma\,\epsilon_0$ with $\epsilon_0$ constant, so the slope $\hat\epsilon$ is constant along the path, the path is a straight line in $(y, \sigma)$, and Euler integrates a straight line exactly with any number of steps (even one). In practice, at high noise the posterior over $x_0$ is broad but changes slowly, and at low noise each path is committed to one nearby data point; in both regimes $\hat\epsilon$ varies slowly along the path, so the trajectories are nearly straight in $(y,\sigma)$ and few Euler (DDIM) steps are accurate.
#
# (b) In $(y, \sigma)$ the ODE's right-hand side is the bounded quantity $\hat\epsilon$, and the paths are nearly straight (exactly straight for a point mass), so the local truncation error (proportional to the curvature $d^2y/d\sigma^2$) is small. In $(x, t)$ the drift contains the factor $1/\sqrt{1-\bar\alpha_t}$ and the schedule's nonlinear $\beta_t$, so the solution curves bend strongly (especially near $t = 0$ and for large $t$) and an Euler step in $t$ makes a large error. Equivalently, DDIM's update is invariant to the schedule's parametrization of time: only $\sigma$ at the two endpoints matters.
#
# Rubric (8 points):
# - 2 pts: writes $\hat x_0 = y_t - \sigma_t\hat\epsilon$ (uses $\sqrt{1-a}/\sqrt a = \sigma$).
# - 2 pts: divides the update by $\sqrt{\bar\alpha_{t_{\text{prev}}}}$ and obtains $y' = y + (\sigma'-\sigma)\hat\epsilon$, identifying the Euler step (slope evaluated at the start point).
# - 2 pts: (a) constant slope / straight paths for a point mass, hence exact; nearly straight paths in practice.
# - 2 pts: (b) bounded right-hand side, low curvature in $(y,\sigma)$; the $(x,t)$ form has stiff, strongly curved dynamics (or: the update depends only on the endpoints' $\sigma$).

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [markdown]
# A numerical check of Question 12 with your functions: a DDIM step ($\eta = 0$) and an Euler step at the corresponding noise levels give the same point (up to rounding). Both panels show the same 300 samples of the ring mixture after 10 steps.

# %%
mixture_model = lambda x, t: ring_eps(
    x, ((1 - alphas_cumprod[t]) / alphas_cumprod[t]).sqrt()
)  # eps_theta(x, t)
g = torch.Generator().manual_seed(40)
x_ddim = ddim_sample(mixture_model, (300, 2), alphas_cumprod, 10, g, spacing="trailing")
ts = timesteps(10, T, "trailing")
sig = ((1 - alphas_cumprod[ts]) / alphas_cumprod[ts]).sqrt()
x_euler = pf_ode_sample(
    ring_eps,
    torch.randn((300, 2), generator=torch.Generator().manual_seed(40), dtype=torch.float64),
    torch.cat([sig, torch.zeros(1, dtype=torch.float64)]),
    "euler",
)
print(f"max |DDIM - Euler| = {(x_ddim - x_euler).abs().max().item():.2e}")
fig, axes = plt.subplots(1, 2, figsize=(8, 4))
for ax, pts, title in zip(
    axes,
    [x_ddim, x_euler],
    ["DDIM, eta = 0, 10 steps", "Euler in (y, sigma), same levels"],
    strict=True,
):
    ax.scatter(data[:, 0], data[:, 1], s=1, alpha=0.2, color="tab:blue")
    ax.scatter(pts[:, 0], pts[:, 1], s=4, color="tab:red")
    ax.set_title(title)
    ax.set_aspect("equal")
plt.show()

# %% [raw]
# # BEGIN QUESTION
# name: q13
# manual: true
# points: 3

# %% [markdown]
# ### Question 13 [written, code, 3 points]: quality against the number of model evaluations
#
# Sample quality costs model evaluations (NFE). In the code cell, with the exact noise predictor of the ring mixture (`mixture_model` for DDIM, `ring_eps` for the ODE solvers), draw 2000 samples with each of
#
# - DDIM ($\eta = 0$) with `"leading"` spacing, and with `"trailing"` spacing,
# - Euler and Heun on `karras_sigmas(n)` (Karras noise levels plus a final $0$),
#
# for NFE budgets of about $4, 8, 16, 32, 64$ (Heun with $n$ levels uses $2n - 1$ evaluations: choose $n$ accordingly). Measure each set of samples with `mmd` against `reference_data`, and plot the distance against NFE on log-log axes for the four methods, with the noise floor as a horizontal line. Then, in the markdown cell: which method is best at very small NFE, and which one wins from about 30 evaluations on? Where does the leading grid start for $N = 4$, how much signal $\sqrt{\bar\alpha_t}$ is left there, and does that explain the (small) gap between leading and trailing spacing for this schedule? What limits all methods at large NFE?

# %% [raw]
# # BEGIN SOLUTION

# %%
# BEGIN SOLUTION
budgets = [4, 8, 16, 32, 64]
n_samples = 2000
results = {"DDIM leading": [], "DDIM trailing": [], "Euler (Karras)": [], "Heun (Karras)": []}
nfes = {name: [] for name in results}
for nfe in budgets:
    g = torch.Generator().manual_seed(nfe)
    for spacing in ["leading", "trailing"]:
        x = ddim_sample(mixture_model, (n_samples, 2), alphas_cumprod, nfe, g, spacing=spacing)
        results[f"DDIM {spacing}"].append(mmd(x, reference_data))
        nfes[f"DDIM {spacing}"].append(nfe)
    x_T = torch.randn(n_samples, 2, generator=g, dtype=torch.float64)
    x = pf_ode_sample(ring_eps, x_T, karras_sigmas(nfe), "euler")  # nfe steps, nfe evaluations
    results["Euler (Karras)"].append(mmd(x, reference_data))
    nfes["Euler (Karras)"].append(nfe)
    n = (nfe + 1) // 2  # n levels + final 0: 2n - 1 evaluations
    x = pf_ode_sample(ring_eps, x_T, karras_sigmas(n), "heun")
    results["Heun (Karras)"].append(mmd(x, reference_data))
    nfes["Heun (Karras)"].append(2 * n - 1)

fig, ax = plt.subplots(figsize=(6, 4))
for name, sw in results.items():
    ax.loglog(nfes[name], sw, "o-", label=name)
ax.axhline(noise_floor, color="grey", ls="--", label="noise floor")
ax.set_xticks(budgets, [str(b) for b in budgets])
ax.minorticks_off()
ax.set_xlabel("number of model evaluations (NFE)")
ax.set_ylabel("MMD to the data")
ax.legend()
plt.show()
# END SOLUTION

# %% [markdown]
# **Answer.** (Numbers from the reference run; yours vary a little with the seeds.) At 4 to 16 evaluations DDIM is best (leading and trailing close together), Euler on the Karras grid is a little worse, and Heun is by far the worst: with only 2 to 8 noise levels its predictor jumps across whole regions where the posterior over the six modes changes abruptly, and averaging two slopes that point to different modes puts samples between the modes. From about 32 evaluations on Heun catches up and is the most accurate at 64, as its second order predicts once the steps are small enough. For $N = 4$ the leading grid starts at $t = 750$, where $\bar\alpha_{750} \approx 0.0033$: the signal left, $\sqrt{\bar\alpha} \approx 0.06$ times data of size about 3, is small next to the unit noise, so starting there from pure noise costs little with this linear schedule. In exchange the leading grid ends with a small step from $t = 0$, while the trailing grid jumps from $t = 1000/N - 1$ straight to clean data, where the modes sharpen; so here leading is even slightly better than trailing. With a schedule that keeps more signal at the first leading step (such as the cosine schedule), the mismatch at the start dominates and trailing wins. At large NFE every method reaches the noise floor of the measurement (two independent samples of 2000 points): with an exact model, what remains is the statistical error of the comparison, not the solver.
#
# Rubric (3 points):
# - 1 pt: the figure: four methods, log-log, NFE counted correctly (two per Heun step, minus one at the final Euler step), noise floor shown.
# - 1 pt: reads the figure correctly at small and at large NFE (any ranking consistent with their own figure) and explains the leading grid: it starts at $t = 750$ for $N = 4$ from pure noise, which costs little here because $\sqrt{\bar\alpha_{750}} \approx 0.06$.
# - 1 pt: large NFE limited by the metric's noise floor (sample size), not by the solver.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION
