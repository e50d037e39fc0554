# ruff: noqa: E501
"""Correct answers to problem set 1 written differently from the reference.

CORRECT[question][name] redefines the question's function in another correct way
(loops over the batch, numpy-built schedules, the x0-form of the posterior mean, other
broadcasting styles, another order of random draws); each must pass every test.
"""

Q2A = {
    "numpy_float64": """
def linear_betas(T=1000, beta_start=1e-4, beta_end=0.02, dtype=torch.float64):
    return torch.tensor(np.linspace(beta_start, beta_end, T), dtype=dtype)
""",
    "python_floats": """
def linear_betas(T=1000, beta_start=1e-4, beta_end=0.02, dtype=torch.float64):
    step = (beta_end - beta_start) / (T - 1)
    return torch.tensor([beta_start + i * step for i in range(T)], dtype=dtype)
""",
    "linspace_in_requested_dtype": """
def linear_betas(T=1000, beta_start=1e-4, beta_end=0.02, dtype=torch.float64):
    return torch.linspace(beta_start, beta_end, steps=T, dtype=dtype)
""",
    "arange_with_endpoint": """
def linear_betas(T=1000, beta_start=1e-4, beta_end=0.02, dtype=torch.float64):
    frac = torch.arange(T, dtype=torch.float64) / (T - 1)
    return (beta_start + (beta_end - beta_start) * frac).to(dtype)
""",
}

Q2B = {
    "numpy_float64": """
def cosine_betas(T=1000, s=0.008, max_beta=0.999, dtype=torch.float64):
    u = np.arange(T + 1) / T
    f = np.cos((u + s) / (1 + s) * np.pi / 2) ** 2
    return torch.from_numpy(np.clip(1 - f[1:] / f[:-1], None, max_beta)).to(dtype)
""",
    "python_loop_like_diffusers": """
def cosine_betas(T=1000, s=0.008, max_beta=0.999, dtype=torch.float64):
    def abar(u):
        return math.cos((u + s) / (1 + s) * math.pi / 2) ** 2
    betas = [min(1 - abar((i + 1) / T) / abar(i / T), max_beta) for i in range(T)]
    return torch.tensor(betas, dtype=dtype)
""",
    "normalised_abar_first": """
def cosine_betas(T=1000, s=0.008, max_beta=0.999, dtype=torch.float64):
    u = torch.linspace(0, 1, T + 1, dtype=torch.float64)
    f = torch.cos((u + s) / (1 + s) * math.pi / 2) ** 2
    abar = f / f[0]
    betas = 1 - abar[1:] / abar[:-1]
    return torch.minimum(betas, torch.full_like(betas, max_beta)).to(dtype)
""",
    "computed_in_requested_dtype": """
def cosine_betas(T=1000, s=0.008, max_beta=0.999, dtype=torch.float64):
    u = torch.arange(T + 1, dtype=dtype) / T
    f = torch.cos((u + s) / (1 + s) * (math.pi / 2)) ** 2
    return torch.clamp(1 - f[1:] / f[:-1], max=max_beta)
""",
}

Q4 = {
    "loop_over_batch": """
def q_sample(x0, t, noise, alphas_cumprod):
    out = torch.empty_like(x0)
    for i in range(x0.shape[0]):
        a = alphas_cumprod[t[i]].item()
        out[i] = math.sqrt(a) * x0[i] + math.sqrt(1 - a) * noise[i]
    return out
""",
    "none_indexing": """
def q_sample(x0, t, noise, alphas_cumprod):
    a = alphas_cumprod.to(x0)[t]
    a = a[(...,) + (None,) * (x0.ndim - 1)]
    return torch.sqrt(a) * x0 + torch.sqrt(1 - a) * noise
""",
    "flatten_and_view": """
def q_sample(x0, t, noise, alphas_cumprod):
    a = alphas_cumprod[t].to(x0)[:, None]
    out = a.sqrt() * x0.flatten(1) + (1 - a).sqrt() * noise.flatten(1)
    return out.view_as(x0)
""",
    "gather_and_view": """
def q_sample(x0, t, noise, alphas_cumprod):
    a = alphas_cumprod.gather(0, t).view(x0.shape[0], *([1] * (x0.dim() - 1)))
    return (a.sqrt() * x0 + (1 - a).sqrt() * noise).to(x0.dtype)
""",
}

Q7 = {
    "functional_mse": """
def dsm_loss(model, x0, t, noise, alphas_cumprod):
    return torch.nn.functional.mse_loss(model(q_sample(x0, t, noise, alphas_cumprod), t), noise)
""",
    "module_mse": """
def dsm_loss(model, x0, t, noise, alphas_cumprod):
    x_t = q_sample(x0, t, noise, alphas_cumprod)
    return torch.nn.MSELoss()(model(x_t, t), noise)
""",
    "own_forward_and_flatten": """
def dsm_loss(model, x0, t, noise, alphas_cumprod):
    a = alphas_cumprod[t].to(x0).view(-1, *([1] * (x0.dim() - 1)))
    x_t = a.sqrt() * x0 + (1 - a).sqrt() * noise
    diff = (model(x_t, t) - noise).flatten()
    return diff.pow(2).sum() / diff.numel()
""",
    "per_sample_then_mean": """
def dsm_loss(model, x0, t, noise, alphas_cumprod):
    x_t = q_sample(x0, t, noise, alphas_cumprod)
    per_sample = ((model(x_t, t) - noise) ** 2).flatten(1).mean(dim=1)
    return per_sample.mean()
""",
}

Q8 = {
    "noise_drawn_before_timesteps": """
def train_step(model, optimizer, x0, alphas_cumprod, generator):
    noise = torch.randn(x0.size(), generator=generator).to(x0)
    t = torch.randint(high=len(alphas_cumprod), size=(len(x0),), generator=generator, dtype=torch.long)
    optimizer.zero_grad(set_to_none=True)
    loss = dsm_loss(model, x0, t, noise, alphas_cumprod)
    loss.backward()
    optimizer.step()
    return float(loss.detach())
""",
    "timesteps_from_uniform_floats": """
def train_step(model, optimizer, x0, alphas_cumprod, generator):
    T = alphas_cumprod.shape[0]
    u = torch.rand(x0.shape[0], generator=generator, dtype=torch.float64)
    t = (u * T).floor().long().clamp(max=T - 1)
    noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype)
    loss = dsm_loss(model, x0, t, noise, alphas_cumprod)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()
""",
    "inline_loss_and_train_mode": """
def train_step(model, optimizer, x0, alphas_cumprod, generator):
    model.train()
    B = x0.shape[0]
    t = torch.randint(0, alphas_cumprod.numel(), (B,), generator=generator)
    eps = torch.randn(x0.shape, generator=generator, dtype=x0.dtype)
    a = alphas_cumprod[t].to(x0).reshape(B, *([1] * (x0.dim() - 1)))
    x_t = a.sqrt() * x0 + (1 - a).sqrt() * eps
    loss = torch.nn.functional.mse_loss(model(x_t, t), eps)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.detach().item()
""",
    "zero_grad_at_the_end": """
def train_step(model, optimizer, x0, alphas_cumprod, generator):
    T = alphas_cumprod.shape[0]
    t = torch.randint(0, T, (x0.shape[0],), generator=generator)
    noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype)
    optimizer.zero_grad()
    loss = dsm_loss(model, x0, t, noise, alphas_cumprod)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss.item()
""",
}

Q9 = {
    "x0_form_posterior_mean": """
def ddpm_step(model_output, t, x_t, alphas_cumprod, noise):
    ones = torch.ones(1, dtype=alphas_cumprod.dtype)
    abar_ext = torch.cat([ones, alphas_cumprod])
    a = abar_ext[t + 1].view(-1, *([1] * (x_t.dim() - 1)))
    ap = abar_ext[t].view(-1, *([1] * (x_t.dim() - 1)))
    alpha = a / ap
    beta = 1 - alpha
    x0_hat = (x_t - (1 - a).sqrt() * model_output) / a.sqrt()
    mean = ap.sqrt() * beta / (1 - a) * x0_hat + alpha.sqrt() * (1 - ap) / (1 - a) * x_t
    std = (beta * (1 - ap) / (1 - a)).sqrt()
    return (mean + std * noise).to(x_t.dtype)
""",
    "loop_with_python_floats_and_mask": """
def ddpm_step(model_output, t, x_t, alphas_cumprod, noise):
    out = torch.empty_like(x_t)
    for i in range(x_t.shape[0]):
        ti = int(t[i])
        a = alphas_cumprod[ti].item()
        ap = alphas_cumprod[ti - 1].item() if ti > 0 else 1.0
        alpha = a / ap
        mean = (x_t[i] - (1 - alpha) / math.sqrt(1 - a) * model_output[i]) / math.sqrt(alpha)
        if ti > 0:
            mean = mean + math.sqrt((1 - alpha) * (1 - ap) / (1 - a)) * noise[i]
        out[i] = mean
    return out
""",
    "explicit_noise_mask_and_betas": """
def ddpm_step(model_output, t, x_t, alphas_cumprod, noise):
    shape = [x_t.shape[0]] + [1] * (x_t.ndim - 1)
    abar = alphas_cumprod.to(x_t.device)
    abar_prev = torch.cat([abar.new_ones(1), abar[:-1]])
    betas = 1 - abar / abar_prev
    var = betas * (1 - abar_prev) / (1 - abar)
    b = betas[t].reshape(shape).to(x_t)
    a = abar[t].reshape(shape).to(x_t)
    mean = (x_t - b / torch.sqrt(1 - a) * model_output) / torch.sqrt(1 - b)
    mask = (t != 0).reshape(shape).to(x_t)
    return mean + mask * var[t].sqrt().reshape(shape).to(x_t) * noise
""",
    "coefficients_in_data_dtype": """
def ddpm_step(model_output, t, x_t, alphas_cumprod, noise):
    abar = alphas_cumprod.to(x_t)
    a = abar[t]
    ap = torch.where(t == 0, torch.ones_like(a), abar[(t - 1).clamp(min=0)])
    alpha = a / ap
    c = lambda v: v.reshape((-1,) + (1,) * (x_t.dim() - 1))
    mean = c(1 / alpha.sqrt()) * (x_t - c((1 - alpha) / (1 - a).sqrt()) * model_output)
    return mean + c(((1 - alpha) * (1 - ap) / (1 - a)).sqrt()) * noise
""",
}

Q10 = {
    "no_noise_drawn_at_t0": """
@torch.no_grad()
def ddpm_sample(model, shape, alphas_cumprod, generator, dtype=torch.float32, return_trajectory=False):
    x = torch.randn(shape, generator=generator, dtype=dtype)
    states = [x]
    for step in reversed(range(len(alphas_cumprod))):
        t = torch.ones(shape[0], dtype=torch.int64) * step
        eps = model(x, t)
        z = torch.randn(shape, generator=generator, dtype=dtype) if step > 0 else torch.zeros(shape, dtype=dtype)
        x = ddpm_step(eps, t, x, alphas_cumprod, z)
        states.append(x)
    return (x, torch.stack(states)) if return_trajectory else x
""",
    "preallocated_trajectory_and_eval": """
def ddpm_sample(model, shape, alphas_cumprod, generator, dtype=torch.float32, return_trajectory=False):
    if hasattr(model, 'eval'):
        model.eval()
    T = alphas_cumprod.shape[0]
    traj = torch.empty((T + 1, *shape), dtype=dtype)
    x = torch.randn(*shape, generator=generator, dtype=dtype)
    traj[0] = x
    with torch.no_grad():
        for k, step in enumerate(range(T - 1, -1, -1)):
            z = torch.randn(x.shape, generator=generator, dtype=dtype)
            t = torch.full((shape[0],), step, dtype=torch.long)
            x = ddpm_step(model(x, t), t, x, alphas_cumprod, z)
            traj[k + 1] = x
    if return_trajectory:
        return x, traj
    return x
""",
    "own_step_inline": """
def ddpm_sample(model, shape, alphas_cumprod, generator, dtype=torch.float32, return_trajectory=False):
    T = len(alphas_cumprod)
    x = torch.randn(shape, generator=generator, dtype=dtype)
    traj = [x]
    for step in range(T - 1, -1, -1):
        t = torch.full((shape[0],), step, dtype=torch.long)
        with torch.no_grad():
            eps = model(x, t)
        a = alphas_cumprod[step].item()
        ap = alphas_cumprod[step - 1].item() if step > 0 else 1.0
        alpha = a / ap
        x = (x - (1 - alpha) / math.sqrt(1 - a) * eps) / math.sqrt(alpha)
        z = torch.randn(shape, generator=generator, dtype=dtype)
        x = x + math.sqrt((1 - alpha) * (1 - ap) / (1 - a)) * z
        traj.append(x)
    if return_trajectory:
        return x, torch.stack(traj)
    return x
""",
}

CORRECT = {"q2a": Q2A, "q2b": Q2B, "q4": Q4, "q7": Q7, "q8": Q8, "q9": Q9, "q10": Q10}

# Alternatives for the weakness classes of issue 11: in-place work on a copy, noise drawn in
# another order or in one block, other ways to switch off gradients, and the slowest
# realistic answer (a per-sample, per-step Python loop), whose grading time is measured.
Q4["in_place_on_a_copy"] = """
def q_sample(x0, t, noise, alphas_cumprod):
    a = alphas_cumprod[t].reshape(-1, *([1] * (x0.dim() - 1))).to(x0)
    out = x0.clone()
    out.mul_(a.sqrt()).add_((1 - a).sqrt() * noise)
    return out
"""
Q7["in_place_on_a_copy"] = """
def dsm_loss(model, x0, t, noise, alphas_cumprod):
    x_t = q_sample(x0, t, noise, alphas_cumprod)
    err = noise.clone()
    err -= model(x_t, t)
    return err.pow(2).mean()
"""
Q9["in_place_on_a_copy"] = """
def ddpm_step(model_output, t, x_t, alphas_cumprod, noise):
    sh = (-1,) + (1,) * (x_t.dim() - 1)
    ap = torch.cat([alphas_cumprod.new_ones(1), alphas_cumprod])[t].reshape(sh).to(x_t)
    a = alphas_cumprod[t].reshape(sh).to(x_t)
    alpha = a / ap
    out = x_t.clone()
    out -= (1 - alpha) / (1 - a).sqrt() * model_output
    out /= alpha.sqrt()
    z = noise.clone()
    z *= ((1 - alpha) * (1 - ap) / (1 - a)).sqrt()
    out += z
    return out
"""
Q10["all_noise_drawn_up_front_inference_mode"] = """
@torch.inference_mode()
def ddpm_sample(model, shape, alphas_cumprod, generator, dtype=torch.float32, return_trajectory=False):
    T = len(alphas_cumprod)
    x = torch.randn(shape, generator=generator, dtype=dtype)
    zs = torch.randn((T, *shape), generator=generator, dtype=dtype)
    traj = [x]
    for k in range(T):
        t = torch.full((shape[0],), T - 1 - k, dtype=torch.long)
        x = ddpm_step(model(x, t), t, x, alphas_cumprod, zs[k])
        traj.append(x)
    return (x, torch.stack(traj)) if return_trajectory else x
"""
Q10["slowest_per_sample_python_loop"] = """
def ddpm_sample(model, shape, alphas_cumprod, generator, dtype=torch.float32, return_trajectory=False):
    T = len(alphas_cumprod)
    B = shape[0]
    x = torch.randn(shape, generator=generator, dtype=dtype)
    traj = [x.clone()]
    with torch.no_grad():
        for step in range(T - 1, -1, -1):
            t = torch.full((B,), step, dtype=torch.long)
            eps = model(x, t)
            z = torch.randn(x.shape, generator=generator, dtype=dtype)
            a = float(alphas_cumprod[step])
            ap = float(alphas_cumprod[step - 1]) if step > 0 else 1.0
            alpha = a / ap
            std = math.sqrt((1 - alpha) * (1 - ap) / (1 - a))
            new = torch.empty_like(x)
            for i in range(B):
                new[i] = (x[i] - (1 - alpha) / math.sqrt(1 - a) * eps[i]) / math.sqrt(alpha) + std * z[i]
            x = new
            traj.append(x.clone())
    return (x, torch.stack(traj)) if return_trajectory else x
"""
