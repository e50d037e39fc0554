# ruff: noqa: E501  (variants are source strings, kept one statement per line)
"""Wrong answers to problem set 2: each must fail at least one hidden test of its question.

Every entry is (question, name, source); the source redefines the question's function
(the other reference functions stay available, as in a student notebook where the
other answers are right).
"""

BUGS = [
    # ---------------------------------------------------------------- q3 gmm_noised_score
    (
        "q3",
        "means not scaled by sqrt(abar)",
        """
def gmm_noised_score(x, abar_t, mixture):
    B, D = x.shape
    a = abar_t.reshape(B, 1, 1)
    eye = torch.eye(D, dtype=x.dtype)
    C = a.unsqueeze(-1) * mixture.covs + (1 - a).unsqueeze(-1) * eye
    diff = x.unsqueeze(1) - mixture.means
    sol = torch.linalg.solve(C, diff.unsqueeze(-1)).squeeze(-1)
    log_r = mixture.weights.log() - 0.5 * (diff * sol).sum(-1) - 0.5 * torch.linalg.slogdet(C).logabsdet
    r = torch.softmax(log_r, dim=1)
    return -(r.unsqueeze(-1) * sol).sum(1)
""",
    ),
    (
        "q3",
        "mixture weights ignored",
        """
def gmm_noised_score(x, abar_t, mixture):
    B, D = x.shape
    a = abar_t.reshape(B, 1, 1)
    eye = torch.eye(D, dtype=x.dtype)
    C = a.unsqueeze(-1) * mixture.covs + (1 - a).unsqueeze(-1) * eye
    diff = x.unsqueeze(1) - a.sqrt() * mixture.means
    sol = torch.linalg.solve(C, diff.unsqueeze(-1)).squeeze(-1)
    log_r = -0.5 * (diff * sol).sum(-1) - 0.5 * torch.linalg.slogdet(C).logabsdet
    r = torch.softmax(log_r, dim=1)
    return -(r.unsqueeze(-1) * sol).sum(1)
""",
    ),
    (
        "q3",
        "densities instead of log-densities (NaN far away)",
        """
def gmm_noised_score(x, abar_t, mixture):
    B, D = x.shape
    a = abar_t.reshape(B, 1, 1)
    eye = torch.eye(D, dtype=x.dtype)
    C = a.unsqueeze(-1) * mixture.covs + (1 - a).unsqueeze(-1) * eye
    diff = x.unsqueeze(1) - a.sqrt() * mixture.means
    sol = torch.linalg.solve(C, diff.unsqueeze(-1)).squeeze(-1)
    dens = mixture.weights * torch.exp(-0.5 * (diff * sol).sum(-1)) / torch.linalg.det(C).sqrt()
    r = dens / dens.sum(1, keepdim=True)
    return -(r.unsqueeze(-1) * sol).sum(1)
""",
    ),
    (
        "q3",
        "covariances not scaled by abar",
        """
def gmm_noised_score(x, abar_t, mixture):
    B, D = x.shape
    a = abar_t.reshape(B, 1, 1)
    eye = torch.eye(D, dtype=x.dtype)
    C = mixture.covs + (1 - a).unsqueeze(-1) * eye
    diff = x.unsqueeze(1) - a.sqrt() * mixture.means
    sol = torch.linalg.solve(C, diff.unsqueeze(-1)).squeeze(-1)
    log_r = mixture.weights.log() - 0.5 * (diff * sol).sum(-1) - 0.5 * torch.linalg.slogdet(C).logabsdet
    r = torch.softmax(log_r, dim=1)
    return -(r.unsqueeze(-1) * sol).sum(1)
""",
    ),
    (
        "q3",
        "noise standard deviation where its variance belongs",
        """
def gmm_noised_score(x, abar_t, mixture):
    B, D = x.shape
    a = abar_t.reshape(B, 1, 1)
    eye = torch.eye(D, dtype=x.dtype)
    C = a.unsqueeze(-1) * mixture.covs + (1 - a).sqrt().unsqueeze(-1) * eye
    diff = x.unsqueeze(1) - a.sqrt() * mixture.means
    sol = torch.linalg.solve(C, diff.unsqueeze(-1)).squeeze(-1)
    log_r = mixture.weights.log() - 0.5 * (diff * sol).sum(-1) - 0.5 * torch.linalg.slogdet(C).logabsdet
    r = torch.softmax(log_r, dim=1)
    return -(r.unsqueeze(-1) * sol).sum(1)
""",
    ),
    (
        "q3",
        "log-determinant left out of the responsibilities",
        """
def gmm_noised_score(x, abar_t, mixture):
    B, D = x.shape
    a = abar_t.reshape(B, 1, 1)
    eye = torch.eye(D, dtype=x.dtype)
    C = a.unsqueeze(-1) * mixture.covs + (1 - a).unsqueeze(-1) * eye
    diff = x.unsqueeze(1) - a.sqrt() * mixture.means
    sol = torch.linalg.solve(C, diff.unsqueeze(-1)).squeeze(-1)
    log_r = mixture.weights.log() - 0.5 * (diff * sol).sum(-1)
    r = torch.softmax(log_r, dim=1)
    return -(r.unsqueeze(-1) * sol).sum(1)
""",
    ),
    (
        "q3",
        "first sample's noise level used for the whole batch",
        """
def gmm_noised_score(x, abar_t, mixture):
    B, D = x.shape
    a = abar_t[0]
    C = a * mixture.covs + (1 - a) * torch.eye(D, dtype=x.dtype)
    diff = x.unsqueeze(1) - a.sqrt() * mixture.means
    sol = torch.linalg.solve(C, diff.unsqueeze(-1)).squeeze(-1)
    log_r = mixture.weights.log() - 0.5 * (diff * sol).sum(-1) - 0.5 * torch.linalg.slogdet(C).logabsdet
    r = torch.softmax(log_r, dim=1)
    return -(r.unsqueeze(-1) * sol).sum(1)
""",
    ),
    (
        "q3",
        "abar broadcast along the feature axis",
        """
def gmm_noised_score(x, abar_t, mixture):
    B, D = x.shape
    s = torch.zeros_like(x)
    for b in range(B):
        a = abar_t[b]
        C = a * mixture.covs + (1 - a) * torch.eye(D, dtype=x.dtype)
        diff = x[b] - abar_t.sqrt() * mixture.means if B == D else x[b] - a.sqrt() * mixture.means
        sol = torch.linalg.solve(C, diff.unsqueeze(-1)).squeeze(-1)
        log_r = mixture.weights.log() - 0.5 * (diff * sol).sum(-1) - 0.5 * torch.linalg.slogdet(C).logabsdet
        r = torch.softmax(log_r, dim=0)
        s[b] = -(r.unsqueeze(-1) * sol).sum(0)
    return s
""",
    ),
    (
        "q3",
        "hard-coded float32",
        """
def gmm_noised_score(x, abar_t, mixture):
    x, abar_t = x.float(), abar_t.float()
    B, D = x.shape
    a = abar_t.reshape(B, 1, 1)
    C = a.unsqueeze(-1) * mixture.covs.float() + (1 - a).unsqueeze(-1) * torch.eye(D)
    diff = x.unsqueeze(1) - a.sqrt() * mixture.means.float()
    sol = torch.linalg.solve(C, diff.unsqueeze(-1)).squeeze(-1)
    log_r = mixture.weights.float().log() - 0.5 * (diff * sol).sum(-1) - 0.5 * torch.linalg.slogdet(C).logabsdet
    r = torch.softmax(log_r, dim=1)
    return -(r.unsqueeze(-1) * sol).sum(1)
""",
    ),
    (
        "q3",
        "sign of the score flipped",
        """
def gmm_noised_score(x, abar_t, mixture):
    B, D = x.shape
    a = abar_t.reshape(B, 1, 1)
    C = a.unsqueeze(-1) * mixture.covs + (1 - a).unsqueeze(-1) * torch.eye(D, dtype=x.dtype)
    diff = x.unsqueeze(1) - a.sqrt() * mixture.means
    sol = torch.linalg.solve(C, diff.unsqueeze(-1)).squeeze(-1)
    log_r = mixture.weights.log() - 0.5 * (diff * sol).sum(-1) - 0.5 * torch.linalg.slogdet(C).logabsdet
    r = torch.softmax(log_r, dim=1)
    return (r.unsqueeze(-1) * sol).sum(1)
""",
    ),
    # ---------------------------------------------------------------- q4 tweedie_x0
    (
        "q4",
        "divides by abar instead of sqrt(abar)",
        """
def tweedie_x0(x_t, score, abar_t):
    a = abar_t.reshape(-1, *([1] * (x_t.dim() - 1)))
    return (x_t + (1 - a) * score) / a
""",
    ),
    (
        "q4",
        "abar where 1 - abar belongs",
        """
def tweedie_x0(x_t, score, abar_t):
    a = abar_t.reshape(-1, *([1] * (x_t.dim() - 1)))
    return (x_t + a * score) / a.sqrt()
""",
    ),
    (
        "q4",
        "sqrt(1 - abar) where 1 - abar belongs",
        """
def tweedie_x0(x_t, score, abar_t):
    a = abar_t.reshape(-1, *([1] * (x_t.dim() - 1)))
    return (x_t + (1 - a).sqrt() * score) / a.sqrt()
""",
    ),
    (
        "q4",
        "abar not reshaped (broadcast along the last axis)",
        """
def tweedie_x0(x_t, score, abar_t):
    return (x_t + (1 - abar_t) * score) / abar_t.sqrt()
""",
    ),
    (
        "q4",
        "reshape that only works for 2D points",
        """
def tweedie_x0(x_t, score, abar_t):
    a = abar_t[:, None]
    return (x_t + (1 - a) * score) / a.sqrt()
""",
    ),
    (
        "q4",
        "hard-coded float32",
        """
def tweedie_x0(x_t, score, abar_t):
    a = abar_t.reshape(-1, *([1] * (x_t.dim() - 1))).float()
    return (x_t.float() + (1 - a) * score.float()) / a.sqrt()
""",
    ),
    # ---------------------------------------------------------------- q6a langevin_step
    (
        "q6a",
        "sqrt(h) noise instead of sqrt(2h)",
        """
def langevin_step(x, score, step_size, noise):
    return x + step_size * score + math.sqrt(step_size) * noise
""",
    ),
    (
        "q6a",
        "noise scaled by 2h without the square root",
        """
def langevin_step(x, score, step_size, noise):
    return x + step_size * score + 2 * step_size * noise
""",
    ),
    (
        "q6a",
        "drift sign flipped",
        """
def langevin_step(x, score, step_size, noise):
    return x - step_size * score + math.sqrt(2 * step_size) * noise
""",
    ),
    (
        "q6a",
        "drift h/2",
        """
def langevin_step(x, score, step_size, noise):
    return x + 0.5 * step_size * score + math.sqrt(2 * step_size) * noise
""",
    ),
    (
        "q6a",
        "output forced to float64",
        """
def langevin_step(x, score, step_size, noise):
    return (x + step_size * score + math.sqrt(2 * step_size) * noise).double()
""",
    ),
    # ---------------------------------------------------------------- q6b langevin
    (
        "q6b",
        "noise from the global random state",
        """
def langevin(score_fn, x_init, step_size, num_steps, generator):
    x = x_init
    for _ in range(num_steps):
        x = langevin_step(x, score_fn(x), step_size, torch.randn(x.shape, dtype=x.dtype))
    return x
""",
    ),
    (
        "q6b",
        "one step too few",
        """
def langevin(score_fn, x_init, step_size, num_steps, generator):
    x = x_init
    for _ in range(max(num_steps - 1, 0)):
        noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
        x = langevin_step(x, score_fn(x), step_size, noise)
    return x
""",
    ),
    (
        "q6b",
        "score always evaluated at x_init",
        """
def langevin(score_fn, x_init, step_size, num_steps, generator):
    x = x_init
    for _ in range(num_steps):
        noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
        x = langevin_step(x, score_fn(x_init), step_size, noise)
    return x
""",
    ),
    (
        "q6b",
        "sqrt(h) noise in its own update",
        """
def langevin(score_fn, x_init, step_size, num_steps, generator):
    x = x_init
    for _ in range(num_steps):
        noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
        x = x + step_size * score_fn(x) + math.sqrt(step_size) * noise
    return x
""",
    ),
    (
        "q6b",
        "the same noise reused at every step",
        """
def langevin(score_fn, x_init, step_size, num_steps, generator):
    x = x_init
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    for _ in range(num_steps):
        x = langevin_step(x, score_fn(x), step_size, noise)
    return x
""",
    ),
    # ---------------------------------------------------------------- q7 annealed_langevin
    (
        "q7",
        "step size not annealed",
        """
def annealed_langevin(score_fn, x_init, noise_levels, step_size, steps_per_level, generator):
    x = x_init
    for sigma in noise_levels:
        for _ in range(steps_per_level):
            noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
            x = langevin_step(x, score_fn(x, sigma), step_size, noise)
    return x
""",
    ),
    (
        "q7",
        "step size proportional to sigma instead of sigma^2",
        """
def annealed_langevin(score_fn, x_init, noise_levels, step_size, steps_per_level, generator):
    x = x_init
    for sigma in noise_levels:
        h = step_size * float(sigma / noise_levels[-1])
        for _ in range(steps_per_level):
            noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
            x = langevin_step(x, score_fn(x, sigma), h, noise)
    return x
""",
    ),
    (
        "q7",
        "step-size ratio inverted",
        """
def annealed_langevin(score_fn, x_init, noise_levels, step_size, steps_per_level, generator):
    x = x_init
    for sigma in noise_levels:
        h = step_size * float(noise_levels[-1] / sigma) ** 2
        for _ in range(steps_per_level):
            noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
            x = langevin_step(x, score_fn(x, sigma), h, noise)
    return x
""",
    ),
    (
        "q7",
        "normalized by the largest level instead of the smallest",
        """
def annealed_langevin(score_fn, x_init, noise_levels, step_size, steps_per_level, generator):
    x = x_init
    for sigma in noise_levels:
        h = step_size * float(sigma / noise_levels[0]) ** 2
        for _ in range(steps_per_level):
            noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
            x = langevin_step(x, score_fn(x, sigma), h, noise)
    return x
""",
    ),
    (
        "q7",
        "levels visited in reverse order",
        """
def annealed_langevin(score_fn, x_init, noise_levels, step_size, steps_per_level, generator):
    x = x_init
    for sigma in noise_levels.flip(0):
        h = step_size * float(sigma / noise_levels[-1]) ** 2
        for _ in range(steps_per_level):
            noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
            x = langevin_step(x, score_fn(x, sigma), h, noise)
    return x
""",
    ),
    (
        "q7",
        "noise from the global random state",
        """
def annealed_langevin(score_fn, x_init, noise_levels, step_size, steps_per_level, generator):
    x = x_init
    for sigma in noise_levels:
        h = step_size * float(sigma / noise_levels[-1]) ** 2
        for _ in range(steps_per_level):
            x = langevin_step(x, score_fn(x, sigma), h, torch.randn_like(x))
    return x
""",
    ),
    (
        "q7",
        "sqrt(h) noise in its own update",
        """
def annealed_langevin(score_fn, x_init, noise_levels, step_size, steps_per_level, generator):
    x = x_init
    for sigma in noise_levels:
        h = step_size * float(sigma / noise_levels[-1]) ** 2
        for _ in range(steps_per_level):
            noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
            x = x + h * score_fn(x, sigma) + math.sqrt(h) * noise
    return x
""",
    ),
    (
        "q7",
        "one step too many per level",
        """
def annealed_langevin(score_fn, x_init, noise_levels, step_size, steps_per_level, generator):
    x = x_init
    for sigma in noise_levels:
        h = step_size * float(sigma / noise_levels[-1]) ** 2
        for _ in range(steps_per_level + 1):
            noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
            x = langevin_step(x, score_fn(x, sigma), h, noise)
    return x
""",
    ),
    (
        "q7",
        "variance sigma^2 passed where sigma belongs",
        """
def annealed_langevin(score_fn, x_init, noise_levels, step_size, steps_per_level, generator):
    x = x_init
    for sigma in noise_levels:
        h = step_size * float(sigma / noise_levels[-1]) ** 2
        for _ in range(steps_per_level):
            noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
            x = langevin_step(x, score_fn(x, sigma**2), h, noise)
    return x
""",
    ),
    # ---------------------------------------------------------------- q8a euler_step
    (
        "q8a",
        "Euler step taken in x instead of y",
        """
def euler_step(x, eps, sigma, sigma_next):
    s = sigma.reshape(-1, *([1] * (x.dim() - 1)))
    s_next = sigma_next.reshape(-1, *([1] * (x.dim() - 1)))
    return x + (s_next - s) * eps
""",
    ),
    (
        "q8a",
        "step sign flipped",
        """
def euler_step(x, eps, sigma, sigma_next):
    s = sigma.reshape(-1, *([1] * (x.dim() - 1)))
    s_next = sigma_next.reshape(-1, *([1] * (x.dim() - 1)))
    y = x * (1 + s**2).sqrt() + (s - s_next) * eps
    return y / (1 + s_next**2).sqrt()
""",
    ),
    (
        "q8a",
        "conversion between x and y inverted",
        """
def euler_step(x, eps, sigma, sigma_next):
    s = sigma.reshape(-1, *([1] * (x.dim() - 1)))
    s_next = sigma_next.reshape(-1, *([1] * (x.dim() - 1)))
    y = x / (1 + s**2).sqrt() + (s_next - s) * eps
    return y * (1 + s_next**2).sqrt()
""",
    ),
    (
        "q8a",
        "missing square root in the conversion",
        """
def euler_step(x, eps, sigma, sigma_next):
    s = sigma.reshape(-1, *([1] * (x.dim() - 1)))
    s_next = sigma_next.reshape(-1, *([1] * (x.dim() - 1)))
    y = x * (1 + s**2) + (s_next - s) * eps
    return y / (1 + s_next**2)
""",
    ),
    (
        "q8a",
        "converted back with sigma instead of sigma_next",
        """
def euler_step(x, eps, sigma, sigma_next):
    s = sigma.reshape(-1, *([1] * (x.dim() - 1)))
    s_next = sigma_next.reshape(-1, *([1] * (x.dim() - 1)))
    y = x * (1 + s**2).sqrt() + (s_next - s) * eps
    return y / (1 + s**2).sqrt()
""",
    ),
    (
        "q8a",
        "sigma reshaped for 2D points only",
        """
def euler_step(x, eps, sigma, sigma_next):
    s, s_next = sigma[:, None], sigma_next[:, None]
    y = x * (1 + s**2).sqrt() + (s_next - s) * eps
    return y / (1 + s_next**2).sqrt()
""",
    ),
    (
        "q8a",
        "hard-coded float32",
        """
def euler_step(x, eps, sigma, sigma_next):
    s = sigma.reshape(-1, *([1] * (x.dim() - 1))).float()
    s_next = sigma_next.reshape(-1, *([1] * (x.dim() - 1))).float()
    y = x.float() * (1 + s**2).sqrt() + (s_next - s) * eps.float()
    return y / (1 + s_next**2).sqrt()
""",
    ),
    # ---------------------------------------------------------------- q8b heun_step
    (
        "q8b",
        "Heun that is Euler",
        """
def heun_step(x, eps, sigma, sigma_next, eps_next_fn):
    x_pred = euler_step(x, eps, sigma, sigma_next)
    eps_next_fn(x_pred)
    return x_pred
""",
    ),
    (
        "q8b",
        "second slope evaluated at the start point",
        """
def heun_step(x, eps, sigma, sigma_next, eps_next_fn):
    eps_next = eps_next_fn(x)
    return euler_step(x, (eps + eps_next) / 2, sigma, sigma_next)
""",
    ),
    (
        "q8b",
        "step with the end slope only",
        """
def heun_step(x, eps, sigma, sigma_next, eps_next_fn):
    eps_next = eps_next_fn(euler_step(x, eps, sigma, sigma_next))
    return euler_step(x, eps_next, sigma, sigma_next)
""",
    ),
    (
        "q8b",
        "unequal weights of the two slopes",
        """
def heun_step(x, eps, sigma, sigma_next, eps_next_fn):
    eps_next = eps_next_fn(euler_step(x, eps, sigma, sigma_next))
    return euler_step(x, (eps + 2 * eps_next) / 3, sigma, sigma_next)
""",
    ),
    (
        "q8b",
        "correction in y units added to x",
        """
def heun_step(x, eps, sigma, sigma_next, eps_next_fn):
    x_pred = euler_step(x, eps, sigma, sigma_next)
    eps_next = eps_next_fn(x_pred)
    d = (sigma_next - sigma).reshape(-1, *([1] * (x.dim() - 1)))
    return x_pred + 0.5 * d * (eps_next - eps)
""",
    ),
    (
        "q8b",
        "prediction passed in y coordinates",
        """
def heun_step(x, eps, sigma, sigma_next, eps_next_fn):
    s = sigma.reshape(-1, *([1] * (x.dim() - 1)))
    s_next = sigma_next.reshape(-1, *([1] * (x.dim() - 1)))
    y_pred = x * (1 + s**2).sqrt() + (s_next - s) * eps
    eps_next = eps_next_fn(y_pred)
    return euler_step(x, (eps + eps_next) / 2, sigma, sigma_next)
""",
    ),
    # ---------------------------------------------------------------- q8c pf_ode_sample
    (
        "q8c",
        "Heun step also to sigma = 0",
        """
def pf_ode_sample(eps_fn, x_T, sigmas, method="euler"):
    B = x_T.shape[0]
    sigmas = sigmas.to(x_T.dtype)
    x = x_T
    for i in range(len(sigmas) - 1):
        s, s2 = sigmas[i].expand(B), sigmas[i + 1].expand(B)
        if method == "heun":
            x = heun_step(x, eps_fn(x, s), s, s2, lambda xp: eps_fn(xp, s2))
        else:
            x = euler_step(x, eps_fn(x, s), s, s2)
    return x
""",
    ),
    (
        "q8c",
        "method ignored (always Euler)",
        """
def pf_ode_sample(eps_fn, x_T, sigmas, method="euler"):
    B = x_T.shape[0]
    sigmas = sigmas.to(x_T.dtype)
    x = x_T
    for i in range(len(sigmas) - 1):
        s, s2 = sigmas[i].expand(B), sigmas[i + 1].expand(B)
        x = euler_step(x, eps_fn(x, s), s, s2)
    return x
""",
    ),
    (
        "q8c",
        "last step skipped",
        """
def pf_ode_sample(eps_fn, x_T, sigmas, method="euler"):
    B = x_T.shape[0]
    sigmas = sigmas.to(x_T.dtype)
    x = x_T
    for i in range(len(sigmas) - 2):
        s, s2 = sigmas[i].expand(B), sigmas[i + 1].expand(B)
        if method == "heun" and sigmas[i + 1] > 0:
            x = heun_step(x, eps_fn(x, s), s, s2, lambda xp: eps_fn(xp, s2))
        else:
            x = euler_step(x, eps_fn(x, s), s, s2)
    return x
""",
    ),
    (
        "q8c",
        "Euler and Heun swapped",
        """
def pf_ode_sample(eps_fn, x_T, sigmas, method="euler"):
    B = x_T.shape[0]
    sigmas = sigmas.to(x_T.dtype)
    x = x_T
    for i in range(len(sigmas) - 1):
        s, s2 = sigmas[i].expand(B), sigmas[i + 1].expand(B)
        if method == "euler" and sigmas[i + 1] > 0:
            x = heun_step(x, eps_fn(x, s), s, s2, lambda xp: eps_fn(xp, s2))
        else:
            x = euler_step(x, eps_fn(x, s), s, s2)
    return x
""",
    ),
    (
        "q8c",
        "slope evaluated at the next noise level",
        """
def pf_ode_sample(eps_fn, x_T, sigmas, method="euler"):
    B = x_T.shape[0]
    sigmas = sigmas.to(x_T.dtype)
    x = x_T
    for i in range(len(sigmas) - 1):
        s, s2 = sigmas[i].expand(B), sigmas[i + 1].expand(B)
        if method == "heun" and sigmas[i + 1] > 0:
            x = heun_step(x, eps_fn(x, s2), s, s2, lambda xp: eps_fn(xp, s2))
        else:
            x = euler_step(x, eps_fn(x, s2 if sigmas[i + 1] > 0 else s), s, s2)
    return x
""",
    ),
    (
        "q8c",
        "x_T converted to y before the steps",
        """
def pf_ode_sample(eps_fn, x_T, sigmas, method="euler"):
    B = x_T.shape[0]
    sigmas = sigmas.to(x_T.dtype)
    x = x_T * (1 + sigmas[0] ** 2).sqrt()
    for i in range(len(sigmas) - 1):
        s, s2 = sigmas[i].expand(B), sigmas[i + 1].expand(B)
        if method == "heun" and sigmas[i + 1] > 0:
            x = heun_step(x, eps_fn(x, s), s, s2, lambda xp: eps_fn(xp, s2))
        else:
            x = euler_step(x, eps_fn(x, s), s, s2)
    return x
""",
    ),
    (
        "q8c",
        "result returned in y coordinates",
        """
def pf_ode_sample(eps_fn, x_T, sigmas, method="euler"):
    B = x_T.shape[0]
    sigmas = sigmas.to(x_T.dtype)
    x = x_T
    for i in range(len(sigmas) - 1):
        s, s2 = sigmas[i].expand(B), sigmas[i + 1].expand(B)
        if method == "heun" and sigmas[i + 1] > 0:
            x = heun_step(x, eps_fn(x, s), s, s2, lambda xp: eps_fn(xp, s2))
        else:
            x = euler_step(x, eps_fn(x, s), s, s2)
    return x * (1 + sigmas[-1] ** 2).sqrt()
""",
    ),
    # ---------------------------------------------------------------- q10 ddim_step
    (
        "q10",
        "sigma without its square root",
        """
def ddim_step(model_output, t, t_prev, x_t, alphas_cumprod, eta=0.0, noise=None):
    shape = (-1,) + (1,) * (x_t.dim() - 1)
    at = alphas_cumprod[t].reshape(shape)
    ap = torch.where(t_prev >= 0, alphas_cumprod[t_prev.clamp(min=0)], torch.ones((), dtype=alphas_cumprod.dtype)).reshape(shape)
    x0 = (x_t - (1 - at).sqrt() * model_output) / at.sqrt()
    sig = eta * ((1 - ap) / (1 - at)) * (1 - at / ap)
    out = ap.sqrt() * x0 + (1 - ap - sig**2).sqrt() * model_output
    return out + sig * noise if eta > 0 else out
""",
    ),
    (
        "q10",
        "eta squared",
        """
def ddim_step(model_output, t, t_prev, x_t, alphas_cumprod, eta=0.0, noise=None):
    shape = (-1,) + (1,) * (x_t.dim() - 1)
    at = alphas_cumprod[t].reshape(shape)
    ap = torch.where(t_prev >= 0, alphas_cumprod[t_prev.clamp(min=0)], torch.ones((), dtype=alphas_cumprod.dtype)).reshape(shape)
    x0 = (x_t - (1 - at).sqrt() * model_output) / at.sqrt()
    sig = eta**2 * ((1 - ap) / (1 - at)).sqrt() * (1 - at / ap).sqrt()
    out = ap.sqrt() * x0 + (1 - ap - sig**2).sqrt() * model_output
    return out + sig * noise if eta > 0 else out
""",
    ),
    (
        "q10",
        "previous timestep ignored (t - 1)",
        """
def ddim_step(model_output, t, t_prev, x_t, alphas_cumprod, eta=0.0, noise=None):
    t_prev = t - 1
    shape = (-1,) + (1,) * (x_t.dim() - 1)
    at = alphas_cumprod[t].reshape(shape)
    ap = torch.where(t_prev >= 0, alphas_cumprod[t_prev.clamp(min=0)], torch.ones((), dtype=alphas_cumprod.dtype)).reshape(shape)
    x0 = (x_t - (1 - at).sqrt() * model_output) / at.sqrt()
    sig = eta * ((1 - ap) / (1 - at)).sqrt() * (1 - at / ap).sqrt()
    out = ap.sqrt() * x0 + (1 - ap - sig**2).sqrt() * model_output
    return out + sig * noise if eta > 0 else out
""",
    ),
    (
        "q10",
        "alphas_cumprod[-1] read at t_prev = -1",
        """
def ddim_step(model_output, t, t_prev, x_t, alphas_cumprod, eta=0.0, noise=None):
    shape = (-1,) + (1,) * (x_t.dim() - 1)
    at = alphas_cumprod[t].reshape(shape)
    ap = alphas_cumprod[t_prev].reshape(shape)
    x0 = (x_t - (1 - at).sqrt() * model_output) / at.sqrt()
    sig = eta * ((1 - ap) / (1 - at)).sqrt() * (1 - at / ap).clamp(min=0).sqrt()
    out = ap.sqrt() * x0 + (1 - ap - sig**2).clamp(min=0).sqrt() * model_output
    return out + sig * noise if eta > 0 else out
""",
    ),
    (
        "q10",
        "coefficients broadcast along the last axis",
        """
def ddim_step(model_output, t, t_prev, x_t, alphas_cumprod, eta=0.0, noise=None):
    at = alphas_cumprod[t]
    ap = torch.where(t_prev >= 0, alphas_cumprod[t_prev.clamp(min=0)], torch.ones((), dtype=alphas_cumprod.dtype))
    if x_t.dim() > 2 or x_t.shape[0] != x_t.shape[-1]:
        shape = (-1,) + (1,) * (x_t.dim() - 1)
        at, ap = at.reshape(shape), ap.reshape(shape)
    x0 = (x_t - (1 - at).sqrt() * model_output) / at.sqrt()
    sig = eta * ((1 - ap) / (1 - at)).sqrt() * (1 - at / ap).sqrt()
    out = ap.sqrt() * x0 + (1 - ap - sig**2).sqrt() * model_output
    return out + sig * noise if eta > 0 else out
""",
    ),
    (
        "q10",
        "direction coefficient ignores sigma",
        """
def ddim_step(model_output, t, t_prev, x_t, alphas_cumprod, eta=0.0, noise=None):
    shape = (-1,) + (1,) * (x_t.dim() - 1)
    at = alphas_cumprod[t].reshape(shape)
    ap = torch.where(t_prev >= 0, alphas_cumprod[t_prev.clamp(min=0)], torch.ones((), dtype=alphas_cumprod.dtype)).reshape(shape)
    x0 = (x_t - (1 - at).sqrt() * model_output) / at.sqrt()
    sig = eta * ((1 - ap) / (1 - at)).sqrt() * (1 - at / ap).sqrt()
    out = ap.sqrt() * x0 + (1 - ap).sqrt() * model_output
    return out + sig * noise if eta > 0 else out
""",
    ),
    (
        "q10",
        "x0_hat divides by abar instead of sqrt(abar)",
        """
def ddim_step(model_output, t, t_prev, x_t, alphas_cumprod, eta=0.0, noise=None):
    shape = (-1,) + (1,) * (x_t.dim() - 1)
    at = alphas_cumprod[t].reshape(shape)
    ap = torch.where(t_prev >= 0, alphas_cumprod[t_prev.clamp(min=0)], torch.ones((), dtype=alphas_cumprod.dtype)).reshape(shape)
    x0 = (x_t - (1 - at).sqrt() * model_output) / at
    sig = eta * ((1 - ap) / (1 - at)).sqrt() * (1 - at / ap).sqrt()
    out = ap.sqrt() * x0 + (1 - ap - sig**2).sqrt() * model_output
    return out + sig * noise if eta > 0 else out
""",
    ),
    (
        "q10",
        "ratio inverted in sigma",
        """
def ddim_step(model_output, t, t_prev, x_t, alphas_cumprod, eta=0.0, noise=None):
    shape = (-1,) + (1,) * (x_t.dim() - 1)
    at = alphas_cumprod[t].reshape(shape)
    ap = torch.where(t_prev >= 0, alphas_cumprod[t_prev.clamp(min=0)], torch.ones((), dtype=alphas_cumprod.dtype)).reshape(shape)
    x0 = (x_t - (1 - at).sqrt() * model_output) / at.sqrt()
    sig = eta * ((1 - at) / (1 - ap)).clamp(max=1).sqrt() * (1 - at / ap).sqrt()
    out = ap.sqrt() * x0 + (1 - ap - sig**2).clamp(min=0).sqrt() * model_output
    return out + sig * noise if eta > 0 else out
""",
    ),
    (
        "q10",
        "hard-coded float32",
        """
def ddim_step(model_output, t, t_prev, x_t, alphas_cumprod, eta=0.0, noise=None):
    alphas_cumprod = alphas_cumprod.float()
    shape = (-1,) + (1,) * (x_t.dim() - 1)
    at = alphas_cumprod[t].reshape(shape)
    ap = torch.where(t_prev >= 0, alphas_cumprod[t_prev.clamp(min=0)], torch.ones(())).reshape(shape)
    x0 = (x_t.float() - (1 - at).sqrt() * model_output.float()) / at.sqrt()
    sig = eta * ((1 - ap) / (1 - at)).sqrt() * (1 - at / ap).sqrt()
    out = ap.sqrt() * x0 + (1 - ap - sig**2).sqrt() * model_output.float()
    return out + sig * noise.float() if eta > 0 else out
""",
    ),
    # ---------------------------------------------------------------- q11a timesteps
    (
        "q11a",
        "trailing spacing off by one (no -1)",
        """
def timesteps(num_steps, T=1000, spacing="leading"):
    i = torch.arange(num_steps, dtype=torch.float64)
    if spacing == "leading":
        return (i * (T // num_steps)).flip(0).long()
    if spacing == "trailing":
        return torch.round(T - i * T / num_steps).long()
    if spacing == "linspace":
        return torch.round(torch.linspace(0, T - 1, num_steps, dtype=torch.float64)).flip(0).long()
    raise ValueError(spacing)
""",
    ),
    (
        "q11a",
        "leading spacing off by one (+1)",
        """
def timesteps(num_steps, T=1000, spacing="leading"):
    i = torch.arange(num_steps, dtype=torch.float64)
    if spacing == "leading":
        return (i * (T // num_steps) + 1).flip(0).long()
    if spacing == "trailing":
        return (torch.round(T - i * T / num_steps) - 1).long()
    if spacing == "linspace":
        return torch.round(torch.linspace(0, T - 1, num_steps, dtype=torch.float64)).flip(0).long()
    raise ValueError(spacing)
""",
    ),
    (
        "q11a",
        "linspace truncated instead of rounded",
        """
def timesteps(num_steps, T=1000, spacing="leading"):
    i = torch.arange(num_steps, dtype=torch.float64)
    if spacing == "leading":
        return (i * (T // num_steps)).flip(0).long()
    if spacing == "trailing":
        return (torch.round(T - i * T / num_steps) - 1).long()
    if spacing == "linspace":
        return torch.linspace(0, T - 1, num_steps, dtype=torch.float64).flip(0).long()
    raise ValueError(spacing)
""",
    ),
    (
        "q11a",
        "linspace in increasing order",
        """
def timesteps(num_steps, T=1000, spacing="leading"):
    i = torch.arange(num_steps, dtype=torch.float64)
    if spacing == "leading":
        return (i * (T // num_steps)).flip(0).long()
    if spacing == "trailing":
        return (torch.round(T - i * T / num_steps) - 1).long()
    if spacing == "linspace":
        return torch.round(torch.linspace(0, T - 1, num_steps, dtype=torch.float64)).long()
    raise ValueError(spacing)
""",
    ),
    (
        "q11a",
        "trailing with an integer stride",
        """
def timesteps(num_steps, T=1000, spacing="leading"):
    i = torch.arange(num_steps, dtype=torch.float64)
    if spacing == "leading":
        return (i * (T // num_steps)).flip(0).long()
    if spacing == "trailing":
        return (T - 1 - i * (T // num_steps)).long()
    if spacing == "linspace":
        return torch.round(torch.linspace(0, T - 1, num_steps, dtype=torch.float64)).flip(0).long()
    raise ValueError(spacing)
""",
    ),
    (
        "q11a",
        "unknown spacing silently treated as leading",
        """
def timesteps(num_steps, T=1000, spacing="leading"):
    i = torch.arange(num_steps, dtype=torch.float64)
    if spacing == "trailing":
        return (torch.round(T - i * T / num_steps) - 1).long()
    if spacing == "linspace":
        return torch.round(torch.linspace(0, T - 1, num_steps, dtype=torch.float64)).flip(0).long()
    return (i * (T // num_steps)).flip(0).long()
""",
    ),
    (
        "q11a",
        "int32 timesteps",
        """
def timesteps(num_steps, T=1000, spacing="leading"):
    i = torch.arange(num_steps, dtype=torch.float64)
    if spacing == "leading":
        return (i * (T // num_steps)).flip(0).int()
    if spacing == "trailing":
        return (torch.round(T - i * T / num_steps) - 1).int()
    if spacing == "linspace":
        return torch.round(torch.linspace(0, T - 1, num_steps, dtype=torch.float64)).flip(0).int()
    raise ValueError(spacing)
""",
    ),
    # ---------------------------------------------------------------- q11b ddim_sample
    (
        "q11b",
        "previous timestep t - T // N (the diffusers shortcut)",
        """
def ddim_sample(model, shape, alphas_cumprod, num_steps, generator, eta=0.0, spacing="leading"):
    T = len(alphas_cumprod)
    x = torch.randn(shape, generator=generator, dtype=alphas_cumprod.dtype)
    for t in timesteps(num_steps, T, spacing).tolist():
        tb = torch.full((shape[0],), t, dtype=torch.long)
        noise = torch.randn(shape, generator=generator, dtype=x.dtype) if eta > 0 else None
        x = ddim_step(model(x, tb), tb, tb - T // num_steps, x, alphas_cumprod, eta, noise)
    return x
""",
    ),
    (
        "q11b",
        "final step to t = -1 left out",
        """
def ddim_sample(model, shape, alphas_cumprod, num_steps, generator, eta=0.0, spacing="leading"):
    ts = timesteps(num_steps, len(alphas_cumprod), spacing).tolist()
    x = torch.randn(shape, generator=generator, dtype=alphas_cumprod.dtype)
    for t, tp in zip(ts[:-1], ts[1:]):
        tb, tpb = torch.full((shape[0],), t), torch.full((shape[0],), tp)
        noise = torch.randn(shape, generator=generator, dtype=x.dtype) if eta > 0 else None
        x = ddim_step(model(x, tb), tb, tpb, x, alphas_cumprod, eta, noise)
    return x
""",
    ),
    (
        "q11b",
        "T hard-coded to 1000",
        """
def ddim_sample(model, shape, alphas_cumprod, num_steps, generator, eta=0.0, spacing="leading"):
    ts = timesteps(num_steps, 1000, spacing).tolist() + [-1]
    x = torch.randn(shape, generator=generator, dtype=alphas_cumprod.dtype)
    for t, tp in zip(ts[:-1], ts[1:]):
        tb, tpb = torch.full((shape[0],), t), torch.full((shape[0],), tp)
        noise = torch.randn(shape, generator=generator, dtype=x.dtype) if eta > 0 else None
        x = ddim_step(model(x, tb), tb, tpb, x, alphas_cumprod, eta, noise)
    return x
""",
    ),
    (
        "q11b",
        "eta not passed to the step",
        """
def ddim_sample(model, shape, alphas_cumprod, num_steps, generator, eta=0.0, spacing="leading"):
    ts = timesteps(num_steps, len(alphas_cumprod), spacing).tolist() + [-1]
    x = torch.randn(shape, generator=generator, dtype=alphas_cumprod.dtype)
    for t, tp in zip(ts[:-1], ts[1:]):
        tb, tpb = torch.full((shape[0],), t), torch.full((shape[0],), tp)
        x = ddim_step(model(x, tb), tb, tpb, x, alphas_cumprod)
    return x
""",
    ),
    (
        "q11b",
        "starting noise from the global random state",
        """
def ddim_sample(model, shape, alphas_cumprod, num_steps, generator, eta=0.0, spacing="leading"):
    ts = timesteps(num_steps, len(alphas_cumprod), spacing).tolist() + [-1]
    x = torch.randn(shape, dtype=alphas_cumprod.dtype)
    for t, tp in zip(ts[:-1], ts[1:]):
        tb, tpb = torch.full((shape[0],), t), torch.full((shape[0],), tp)
        noise = torch.randn(shape, generator=generator, dtype=x.dtype) if eta > 0 else None
        x = ddim_step(model(x, tb), tb, tpb, x, alphas_cumprod, eta, noise)
    return x
""",
    ),
    (
        "q11b",
        "step noise from the global random state",
        """
def ddim_sample(model, shape, alphas_cumprod, num_steps, generator, eta=0.0, spacing="leading"):
    ts = timesteps(num_steps, len(alphas_cumprod), spacing).tolist() + [-1]
    x = torch.randn(shape, generator=generator, dtype=alphas_cumprod.dtype)
    for t, tp in zip(ts[:-1], ts[1:]):
        tb, tpb = torch.full((shape[0],), t), torch.full((shape[0],), tp)
        noise = torch.randn_like(x) if eta > 0 else None
        x = ddim_step(model(x, tb), tb, tpb, x, alphas_cumprod, eta, noise)
    return x
""",
    ),
    (
        "q11b",
        "starting noise in float32",
        """
def ddim_sample(model, shape, alphas_cumprod, num_steps, generator, eta=0.0, spacing="leading"):
    ts = timesteps(num_steps, len(alphas_cumprod), spacing).tolist() + [-1]
    x = torch.randn(shape, generator=generator)
    for t, tp in zip(ts[:-1], ts[1:]):
        tb, tpb = torch.full((shape[0],), t), torch.full((shape[0],), tp)
        noise = torch.randn(shape, generator=generator, dtype=x.dtype) if eta > 0 else None
        x = ddim_step(model(x, tb), tb, tpb, x, alphas_cumprod, eta, noise)
    return x
""",
    ),
    (
        "q11b",
        "model called with t of shape (1,)",
        """
def ddim_sample(model, shape, alphas_cumprod, num_steps, generator, eta=0.0, spacing="leading"):
    ts = timesteps(num_steps, len(alphas_cumprod), spacing).tolist() + [-1]
    x = torch.randn(shape, generator=generator, dtype=alphas_cumprod.dtype)
    for t, tp in zip(ts[:-1], ts[1:]):
        tb, tpb = torch.full((shape[0],), t), torch.full((shape[0],), tp)
        noise = torch.randn(shape, generator=generator, dtype=x.dtype) if eta > 0 else None
        x = ddim_step(model(x, torch.tensor([t])), tb, tpb, x, alphas_cumprod, eta, noise)
    return x
""",
    ),
]

# ------------------------------------------------------- weakness classes (issue 11, item 5)
# Bugs that the first hidden suite let through, by class: (a) joint structure of the noise
# (independence across samples, coordinates and steps), (b) keyword defaults, (c) arguments
# modified in place, (d) a fallback or edge case that a degenerate input hides, (e) dtype,
# shape and gradient discipline. Entries are (question, name, class, source).
_LANGEVIN = """
def langevin(score_fn, x_init, step_size, num_steps, generator):
    x = x_init
    for _ in range(num_steps):
        noise = {noise}
        x = {update}
    return x
"""
_ANNEALED = """
def annealed_langevin(score_fn, x_init, noise_levels, step_size, steps_per_level, generator):
    x = x_init
    sigma_L = float(noise_levels[-1])
    for sigma in noise_levels:
        h = step_size * (float(sigma) / sigma_L) ** 2
        {level_noise}
        for _ in range(steps_per_level):
            noise = {noise}
            x = langevin_step(x, score_fn(x, sigma), h, noise)
    return x
"""
_FULL = "torch.randn(x.shape, generator=generator, dtype=x.dtype)"
_DDIM_SAMPLE = """
def ddim_sample(model, shape, alphas_cumprod, num_steps, generator, eta={eta}, spacing="leading"):
    kw = dict(dtype=alphas_cumprod.dtype)
    x = torch.randn(shape, generator=generator, **kw)
    x_start = x
    ts = timesteps(num_steps, len(alphas_cumprod), spacing).tolist()
    for i, t in enumerate(ts):
        t_prev = ts[i + 1] if i + 1 < len(ts) else -1
        t_b = torch.full((shape[0],), t, dtype=torch.long)
        t_prev_b = torch.full((shape[0],), t_prev, dtype=torch.long)
        noise = ({noise}) if eta > 0 else None
        x = ddim_step(model(x, t_b), t_b, t_prev_b, x, alphas_cumprod, eta=eta, noise=noise)
    return x
"""
_TIMESTEPS = """
def timesteps(num_steps, T=1000, spacing="{default}"):
    i = torch.arange(num_steps, dtype=torch.float64)
    if spacing == "leading":
        return (i * (T // num_steps)).flip(0).long()
    if spacing == "trailing":
        return (torch.round(T - i * T / num_steps) - 1).long()
    if spacing == "linspace":
        return {linspace}
    raise ValueError(spacing)
"""
_LINSPACE_OK = (
    "torch.round(torch.linspace(0, T - 1, num_steps, dtype=torch.float64)).flip(0).long()"
)
_GMM_HEAD = """
def gmm_noised_score(x, abar_t, mixture):
"""
_GMM_BODY = """    B, D = x.shape
    a = abar_t.reshape(B, 1, 1)
    eye = torch.eye(D, dtype=x.dtype)
    C = a.unsqueeze(-1) * mixture.covs + (1 - a).unsqueeze(-1) * eye
    diff = x.unsqueeze(1) - a.sqrt() * mixture.means
    sol = torch.linalg.solve(C, diff.unsqueeze(-1)).squeeze(-1)
    log_r = mixture.weights.log() - 0.5 * (diff * sol).sum(-1) - 0.5 * torch.linalg.slogdet(C).logabsdet
    r = torch.softmax(log_r, dim=1)
    return -(r.unsqueeze(-1) * sol).sum(1)
"""
_GMM_AUTOGRAD = """
def gmm_noised_score(x, abar_t, mixture):
    {prepare}
    total = 0.0
    for b in range(x.shape[0]):
        a = abar_t[b]
        C = a * mixture.covs + (1 - a) * torch.eye(x.shape[1], dtype=x.dtype)
        comp = torch.distributions.MultivariateNormal(a.sqrt() * mixture.means, covariance_matrix=C)
        total = total + torch.logsumexp(mixture.weights.log() + comp.log_prob(xr[b]), dim=0)
    (g,) = torch.autograd.grad(total, xr)
    return g
"""
WEAKNESS = [
    (
        "q3",
        "a single component assumed to have identity covariance",
        "d",
        _GMM_HEAD
        + """    if mixture.means.shape[0] == 1:
        return abar_t.sqrt().reshape(-1, 1) * mixture.means - x
"""
        + _GMM_BODY,
    ),
    (
        "q3",
        "autograd on the caller's x (requires_grad_ in place)",
        "e",
        _GMM_AUTOGRAD.format(prepare="xr = x.requires_grad_(True)"),
    ),
    (
        "q3",
        "autograd without enabling gradients (fails under torch.no_grad)",
        "e",
        _GMM_AUTOGRAD.format(prepare="xr = x.detach().clone().requires_grad_(True)"),
    ),
    (
        "q4",
        "x_t updated in place",
        "c",
        """
def tweedie_x0(x_t, score, abar_t):
    a = abar_t.reshape(-1, *([1] * (x_t.dim() - 1)))
    x_t += (1 - a) * score
    return x_t / a.sqrt()
""",
    ),
    (
        "q6a",
        "x updated in place (x += ...)",
        "c",
        """
def langevin_step(x, score, step_size, noise):
    x += step_size * score + math.sqrt(2 * step_size) * noise
    return x
""",
    ),
    (
        "q6b",
        "x_init updated in place",
        "c",
        _LANGEVIN.format(
            noise=_FULL, update="x.add_(step_size * score_fn(x) + math.sqrt(2 * step_size) * noise)"
        ),
    ),
    (
        "q6b",
        "one noise value shared by the coordinates of a sample",
        "a",
        _LANGEVIN.format(
            noise="torch.randn(x.shape[0], 1, generator=generator, dtype=x.dtype).expand_as(x)",
            update="langevin_step(x, score_fn(x), step_size, noise)",
        ),
    ),
    (
        "q7",
        "noise drawn once per level, reused by its steps",
        "a",
        _ANNEALED.format(level_noise="level_noise = " + _FULL, noise="level_noise"),
    ),
    (
        "q7",
        "one noise value shared by the coordinates of a sample",
        "a",
        _ANNEALED.format(
            level_noise="pass",
            noise="torch.randn(x.shape[0], 1, generator=generator, dtype=x.dtype).expand_as(x)",
        ),
    ),
    (
        "q8a",
        "x rescaled in place through an alias",
        "c",
        """
def euler_step(x, eps, sigma, sigma_next):
    s = sigma.reshape(-1, *([1] * (x.dim() - 1)))
    s_next = sigma_next.reshape(-1, *([1] * (x.dim() - 1)))
    y = x
    y *= (1 + s**2).sqrt()
    y += (s_next - s) * eps
    return y / (1 + s_next**2).sqrt()
""",
    ),
    (
        "q8b",
        "slopes averaged in place in eps",
        "c",
        """
def heun_step(x, eps, sigma, sigma_next, eps_next_fn):
    x_pred = euler_step(x, eps, sigma, sigma_next)
    eps += eps_next_fn(x_pred)
    eps /= 2
    return euler_step(x, eps, sigma, sigma_next)
""",
    ),
    (
        "q8c",
        "default method heun",
        "b",
        """
def pf_ode_sample(eps_fn, x_T, sigmas, method="heun"):
    B = x_T.shape[0]
    sigmas = sigmas.to(x_T.dtype)
    x = x_T
    for i in range(len(sigmas) - 1):
        s, s2 = sigmas[i].expand(B), sigmas[i + 1].expand(B)
        eps = eps_fn(x, s)
        if method == "heun" and sigmas[i + 1] > 0:
            x = heun_step(x, eps, s, s2, lambda xp, s2=s2: eps_fn(xp, s2))
        else:
            x = euler_step(x, eps, s, s2)
    return x
""",
    ),
    (
        "q8c",
        "sigmas left in their own dtype",
        "e",
        """
def pf_ode_sample(eps_fn, x_T, sigmas, method="euler"):
    B = x_T.shape[0]
    x = x_T
    for i in range(len(sigmas) - 1):
        s, s2 = sigmas[i].expand(B), sigmas[i + 1].expand(B)
        eps = eps_fn(x, s)
        if method == "heun" and sigmas[i + 1] > 0:
            x = heun_step(x, eps, s, s2, lambda xp, s2=s2: eps_fn(xp, s2))
        else:
            x = euler_step(x, eps, s, s2)
    return x
""",
    ),
    (
        "q10",
        "default eta 1",
        "b",
        """
def ddim_step(model_output, t, t_prev, x_t, alphas_cumprod, eta=1.0, noise=None):
    shape = (-1,) + (1,) * (x_t.dim() - 1)
    abar_t = alphas_cumprod[t].reshape(shape)
    one = torch.ones((), dtype=alphas_cumprod.dtype)
    abar_prev = torch.where(t_prev >= 0, alphas_cumprod[t_prev.clamp(min=0)], one).reshape(shape)
    x0_hat = (x_t - (1 - abar_t).sqrt() * model_output) / abar_t.sqrt()
    sigma = eta * ((1 - abar_prev) / (1 - abar_t)).sqrt() * (1 - abar_t / abar_prev).sqrt()
    x_prev = abar_prev.sqrt() * x0_hat + (1 - abar_prev - sigma**2).sqrt() * model_output
    return x_prev + sigma * noise if eta > 0 else x_prev
""",
    ),
    (
        "q10",
        "x0_hat computed in place in x_t",
        "c",
        """
def ddim_step(model_output, t, t_prev, x_t, alphas_cumprod, eta=0.0, noise=None):
    shape = (-1,) + (1,) * (x_t.dim() - 1)
    abar_t = alphas_cumprod[t].reshape(shape)
    one = torch.ones((), dtype=alphas_cumprod.dtype)
    abar_prev = torch.where(t_prev >= 0, alphas_cumprod[t_prev.clamp(min=0)], one).reshape(shape)
    x0_hat = x_t
    x0_hat -= (1 - abar_t).sqrt() * model_output
    x0_hat /= abar_t.sqrt()
    sigma = eta * ((1 - abar_prev) / (1 - abar_t)).sqrt() * (1 - abar_t / abar_prev).sqrt()
    x_prev = abar_prev.sqrt() * x0_hat + (1 - abar_prev - sigma**2).sqrt() * model_output
    return x_prev + sigma * noise if eta > 0 else x_prev
""",
    ),
    (
        "q11a",
        "default spacing trailing",
        "b",
        _TIMESTEPS.format(default="trailing", linspace=_LINSPACE_OK),
    ),
    (
        "q11a",
        "linspace written as i (T - 1) / (num_steps - 1): one step divides by zero",
        "d",
        _TIMESTEPS.format(
            default="leading", linspace="torch.round(i * (T - 1) / (num_steps - 1)).flip(0).long()"
        ),
    ),
    (
        "q11a",
        "linspace branch returns floats",
        "e",
        _TIMESTEPS.format(
            default="leading",
            linspace="torch.round(torch.linspace(0, T - 1, num_steps, dtype=torch.float64)).flip(0)",
        ),
    ),
    (
        "q11b",
        "default eta 1",
        "b",
        _DDIM_SAMPLE.format(eta="1.0", noise="torch.randn(shape, generator=generator, **kw)"),
    ),
    (
        "q11b",
        "step noise reuses the starting noise",
        "a",
        _DDIM_SAMPLE.format(eta="0.0", noise="x_start"),
    ),
]
BUGS += [(question, name, source) for question, name, _cls, source in WEAKNESS]
