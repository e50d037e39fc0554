# ruff: noqa: E501
"""Wrong answers to problem set 1: each must fail at least one HIDDEN test of its question.

BUGS[question][name] is the source of a cell that redefines the question's function
with one realistic mistake (the kind students make, and the catalog of
the project's field notes on test design). The rest of the namespace holds the reference.
"""

# ---------------------------------------------------------------------------- q2a
Q2A = {
    "T_plus_one_points_drop_last": """
def linear_betas(T=1000, beta_start=1e-4, beta_end=0.02, dtype=torch.float64):
    return torch.linspace(beta_start, beta_end, T + 1, dtype=torch.float64)[:-1].to(dtype)
""",
    "T_plus_one_points_drop_first": """
def linear_betas(T=1000, beta_start=1e-4, beta_end=0.02, dtype=torch.float64):
    return torch.linspace(beta_start, beta_end, T + 1, dtype=torch.float64)[1:].to(dtype)
""",
    "arange_step_excludes_end": """
def linear_betas(T=1000, beta_start=1e-4, beta_end=0.02, dtype=torch.float64):
    step = (beta_end - beta_start) / T
    return (beta_start + step * torch.arange(T, dtype=torch.float64)).to(dtype)
""",
    "scaled_linear_instead": """
def linear_betas(T=1000, beta_start=1e-4, beta_end=0.02, dtype=torch.float64):
    return (torch.linspace(beta_start**0.5, beta_end**0.5, T, dtype=torch.float64) ** 2).to(dtype)
""",
    "reversed": """
def linear_betas(T=1000, beta_start=1e-4, beta_end=0.02, dtype=torch.float64):
    return torch.linspace(beta_end, beta_start, T, dtype=torch.float64).to(dtype)
""",
    "hard_coded_float32": """
def linear_betas(T=1000, beta_start=1e-4, beta_end=0.02, dtype=torch.float64):
    return torch.linspace(beta_start, beta_end, T).float()
""",
    "computed_in_float32_then_cast": """
def linear_betas(T=1000, beta_start=1e-4, beta_end=0.02, dtype=torch.float64):
    return torch.linspace(beta_start, beta_end, T, dtype=torch.float32).to(dtype)
""",
    "dtype_ignored": """
def linear_betas(T=1000, beta_start=1e-4, beta_end=0.02, dtype=torch.float64):
    return torch.linspace(beta_start, beta_end, T, dtype=torch.float64)
""",
    "wrong_default_start": """
def linear_betas(T=1000, beta_start=1e-3, beta_end=0.02, dtype=torch.float64):
    return torch.linspace(beta_start, beta_end, T, dtype=torch.float64).to(dtype)
""",
    "arguments_swapped": """
def linear_betas(T=1000, beta_end=0.02, beta_start=1e-4, dtype=torch.float64):
    return torch.linspace(beta_start, beta_end, T, dtype=torch.float64).to(dtype)
""",
    "returns_alphas_cumprod": """
def linear_betas(T=1000, beta_start=1e-4, beta_end=0.02, dtype=torch.float64):
    return torch.cumprod(1 - torch.linspace(beta_start, beta_end, T, dtype=torch.float64), 0).to(dtype)
""",
    "returns_numpy": """
def linear_betas(T=1000, beta_start=1e-4, beta_end=0.02, dtype=torch.float64):
    return np.linspace(beta_start, beta_end, T)
""",
}

# ---------------------------------------------------------------------------- q2b
_COS_HEAD = """
def cosine_betas(T=1000, s=0.008, max_beta=0.999, dtype=torch.float64):
    u = torch.arange(T + 1, dtype=torch.float64) / T
"""
Q2B = {
    "no_clipping": _COS_HEAD
    + """
    f = torch.cos((u + s) / (1 + s) * math.pi / 2) ** 2
    return (1 - f[1:] / f[:-1]).to(dtype)
""",
    "clamp_min_instead_of_max": _COS_HEAD
    + """
    f = torch.cos((u + s) / (1 + s) * math.pi / 2) ** 2
    return (1 - f[1:] / f[:-1]).clamp(min=max_beta).to(dtype)
""",
    "offset_s_ignored": _COS_HEAD
    + """
    f = torch.cos(u * math.pi / 2) ** 2
    return (1 - f[1:] / f[:-1]).clamp(max=max_beta).to(dtype)
""",
    "cosine_not_squared": _COS_HEAD
    + """
    f = torch.cos((u + s) / (1 + s) * math.pi / 2)
    return (1 - f[1:] / f[:-1]).clamp(max=max_beta).to(dtype)
""",
    "pi_instead_of_half_pi": _COS_HEAD
    + """
    f = torch.cos((u + s) / (1 + s) * math.pi) ** 2
    return (1 - f[1:] / f[:-1]).clamp(max=max_beta, min=1e-8).to(dtype)
""",
    "abar_shifted_by_one": """
def cosine_betas(T=1000, s=0.008, max_beta=0.999, dtype=torch.float64):
    u = torch.arange(T, dtype=torch.float64) / T
    f = torch.cos((u + s) / (1 + s) * math.pi / 2) ** 2
    abar = f / f[0]
    abar_prev = torch.cat([torch.ones(1, dtype=torch.float64), abar[:-1]])
    return (1 - abar / abar_prev).clamp(max=max_beta).to(dtype)
""",
    "clips_abar_not_beta": _COS_HEAD
    + """
    f = torch.cos((u + s) / (1 + s) * math.pi / 2) ** 2
    abar = (f / f[0]).clamp(min=1 - max_beta)
    return (1 - abar[1:] / abar[:-1]).to(dtype)
""",
    "grid_of_T_points": """
def cosine_betas(T=1000, s=0.008, max_beta=0.999, dtype=torch.float64):
    u = torch.linspace(0, 1, T, dtype=torch.float64)
    f = torch.cos((u + s) / (1 + s) * math.pi / 2) ** 2
    return (1 - f[1:] / f[:-1]).clamp(max=max_beta).to(dtype)
""",
    "ratio_inverted": _COS_HEAD
    + """
    f = torch.cos((u + s) / (1 + s) * math.pi / 2) ** 2
    return (1 - f[:-1] / f[1:]).abs().clamp(max=max_beta).to(dtype)
""",
    "hard_coded_float32": """
def cosine_betas(T=1000, s=0.008, max_beta=0.999, dtype=torch.float64):
    u = torch.arange(T + 1, dtype=torch.float32) / T
    f = torch.cos((u + s) / (1 + s) * math.pi / 2) ** 2
    return (1 - f[1:] / f[:-1]).clamp(max=max_beta)
""",
    "dtype_ignored": _COS_HEAD
    + """
    f = torch.cos((u + s) / (1 + s) * math.pi / 2) ** 2
    return (1 - f[1:] / f[:-1]).clamp(max=max_beta)
""",
    "max_beta_hard_coded": _COS_HEAD
    + """
    f = torch.cos((u + s) / (1 + s) * math.pi / 2) ** 2
    return (1 - f[1:] / f[:-1]).clamp(max=0.999).to(dtype)
""",
}

# ---------------------------------------------------------------------------- q4
Q4 = {
    "alpha_where_abar_belongs": """
def q_sample(x0, t, noise, alphas_cumprod):
    a = (alphas_cumprod[t] / alphas_cumprod[t - 1]).reshape(-1, *([1] * (x0.dim() - 1))).to(x0)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise
""",
    "missing_sqrt_on_signal": """
def q_sample(x0, t, noise, alphas_cumprod):
    a = alphas_cumprod[t].reshape(-1, *([1] * (x0.dim() - 1))).to(x0)
    return a * x0 + (1 - a).sqrt() * noise
""",
    "missing_sqrt_on_noise": """
def q_sample(x0, t, noise, alphas_cumprod):
    a = alphas_cumprod[t].reshape(-1, *([1] * (x0.dim() - 1))).to(x0)
    return a.sqrt() * x0 + (1 - a) * noise
""",
    "signal_and_noise_swapped": """
def q_sample(x0, t, noise, alphas_cumprod):
    a = alphas_cumprod[t].reshape(-1, *([1] * (x0.dim() - 1))).to(x0)
    return (1 - a).sqrt() * x0 + a.sqrt() * noise
""",
    "broadcast_along_last_axis": """
def q_sample(x0, t, noise, alphas_cumprod):
    a = alphas_cumprod[t].to(x0)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise
""",
    "hard_coded_float32": """
def q_sample(x0, t, noise, alphas_cumprod):
    a = alphas_cumprod[t].reshape(-1, *([1] * (x0.dim() - 1))).float()
    return (a.sqrt() * x0.float() + (1 - a).sqrt() * noise.float()).float()
""",
    "no_dtype_conversion": """
def q_sample(x0, t, noise, alphas_cumprod):
    a = alphas_cumprod[t].reshape(-1, *([1] * (x0.dim() - 1)))
    return a.sqrt() * x0 + (1 - a).sqrt() * noise
""",
    "first_timestep_for_whole_batch": """
def q_sample(x0, t, noise, alphas_cumprod):
    a = alphas_cumprod[t[0]].to(x0)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise
""",
    "off_by_one_timestep": """
def q_sample(x0, t, noise, alphas_cumprod):
    a = alphas_cumprod[t - 1].reshape(-1, *([1] * (x0.dim() - 1))).to(x0)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise
""",
    "variance_added_not_std": """
def q_sample(x0, t, noise, alphas_cumprod):
    a = alphas_cumprod[t].reshape(-1, *([1] * (x0.dim() - 1))).to(x0)
    return a.sqrt() * x0 + (1 - a) * noise.sign() * noise.abs().sqrt()
""",
    "noise_ignored": """
def q_sample(x0, t, noise, alphas_cumprod):
    a = alphas_cumprod[t].reshape(-1, *([1] * (x0.dim() - 1))).to(x0)
    return a.sqrt() * x0
""",
}

# ---------------------------------------------------------------------------- q7
_QS = "    x_t = q_sample(x0, t, noise, alphas_cumprod)\n"
_DSM = "def dsm_loss(model, x0, t, noise, alphas_cumprod):\n"
Q7 = {
    "target_is_x0": _DSM + _QS + "    return ((model(x_t, t) - x0) ** 2).mean()\n",
    "target_is_x_t": _DSM + _QS + "    return ((model(x_t, t) - x_t) ** 2).mean()\n",
    "sum_over_features_then_mean": _DSM
    + _QS
    + "    return ((model(x_t, t) - noise) ** 2).sum(dim=1).mean()\n",
    "sum_instead_of_mean": _DSM + _QS + "    return ((model(x_t, t) - noise) ** 2).sum()\n",
    "mean_over_batch_only": _DSM + _QS + "    return ((model(x_t, t) - noise) ** 2).mean(dim=0)\n",
    "returns_python_float": _DSM
    + _QS
    + "    return ((model(x_t, t) - noise) ** 2).mean().item()\n",
    "detached": _DSM + _QS + "    return ((model(x_t, t) - noise) ** 2).mean().detach()\n",
    "model_gets_t_plus_one": _DSM + _QS + "    return ((model(x_t, t + 1) - noise) ** 2).mean()\n",
    "model_sees_clean_data": _DSM + "    return ((model(x0, t) - noise) ** 2).mean()\n",
    "model_sees_noise": _DSM + "    return ((model(noise, t) - noise) ** 2).mean()\n",
    "absolute_error": _DSM + _QS + "    return (model(x_t, t) - noise).abs().mean()\n",
    "root_mean_square": _DSM + _QS + "    return ((model(x_t, t) - noise) ** 2).mean().sqrt()\n",
    "sign_of_target": _DSM + _QS + "    return ((model(x_t, t) + noise) ** 2).mean()\n",
    "hard_coded_float32": _DSM
    + _QS
    + "    return ((model(x_t.float(), t) - noise.float()) ** 2).mean()\n",
    "own_forward_with_alpha_not_abar": _DSM
    + """
    a = (alphas_cumprod[t] / alphas_cumprod[t - 1]).reshape(-1, *([1] * (x0.dim() - 1))).to(x0)
    x_t = a.sqrt() * x0 + (1 - a).sqrt() * noise
    return ((model(x_t, t) - noise) ** 2).mean()
""",
}

# ---------------------------------------------------------------------------- q8
_TS = "def train_step(model, optimizer, x0, alphas_cumprod, generator):\n    T = alphas_cumprod.shape[0]\n"
_T_OK = "    t = torch.randint(0, T, (x0.shape[0],), generator=generator)\n"
_N_OK = "    noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype)\n"
_STEP_OK = """    loss = dsm_loss(model, x0, t, noise, alphas_cumprod)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()
"""
Q8 = {
    "timesteps_miss_the_last": _TS
    + "    t = torch.randint(0, T - 1, (x0.shape[0],), generator=generator)\n"
    + _N_OK
    + _STEP_OK,
    "T_hard_coded_to_1000": _TS
    + "    t = torch.randint(0, 1000, (x0.shape[0],), generator=generator)\n"
    + _N_OK
    + _STEP_OK,
    "timesteps_miss_zero": _TS
    + "    t = torch.randint(1, T, (x0.shape[0],), generator=generator)\n"
    + _N_OK
    + _STEP_OK,
    "timesteps_one_based": _TS
    + "    t = torch.randint(1, T + 1, (x0.shape[0],), generator=generator).clamp(max=T - 1)\n"
    + _N_OK
    + _STEP_OK,
    "one_timestep_for_the_batch": _TS
    + "    t = torch.randint(0, T, (1,), generator=generator).expand(x0.shape[0])\n"
    + _N_OK
    + _STEP_OK,
    "timesteps_from_global_rng": _TS
    + "    t = torch.randint(0, T, (x0.shape[0],))\n"
    + _N_OK
    + _STEP_OK,
    "noise_from_global_rng": _TS + _T_OK + "    noise = torch.randn_like(x0)\n" + _STEP_OK,
    "uniform_noise": _TS
    + _T_OK
    + "    noise = torch.rand(x0.shape, generator=generator, dtype=x0.dtype)\n"
    + _STEP_OK,
    "noise_shared_by_coordinates": _TS
    + _T_OK
    + "    noise = torch.randn(x0.shape[0], 1, generator=generator, dtype=x0.dtype).expand_as(x0)\n"
    + _STEP_OK,
    "no_zero_grad": _TS
    + _T_OK
    + _N_OK
    + """    loss = dsm_loss(model, x0, t, noise, alphas_cumprod)
    loss.backward()
    optimizer.step()
    return loss.item()
""",
    "zero_grad_after_backward": _TS
    + _T_OK
    + _N_OK
    + """    loss = dsm_loss(model, x0, t, noise, alphas_cumprod)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()
""",
    "step_before_backward": _TS
    + _T_OK
    + _N_OK
    + """    loss = dsm_loss(model, x0, t, noise, alphas_cumprod)
    optimizer.zero_grad()
    optimizer.step()
    loss.backward()
    return loss.item()
""",
    "no_optimizer_step": _TS
    + _T_OK
    + _N_OK
    + """    loss = dsm_loss(model, x0, t, noise, alphas_cumprod)
    optimizer.zero_grad()
    loss.backward()
    return loss.item()
""",
    "returns_tensor": _TS
    + _T_OK
    + _N_OK
    + """    loss = dsm_loss(model, x0, t, noise, alphas_cumprod)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss
""",
    "loss_returned_after_a_second_forward": _TS
    + _T_OK
    + _N_OK
    + """    loss = dsm_loss(model, x0, t, noise, alphas_cumprod)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return dsm_loss(model, x0, t, noise, alphas_cumprod).item()
""",
    "noise_missing_sqrt_in_own_forward": _TS
    + _T_OK
    + _N_OK
    + """    a = alphas_cumprod[t].reshape(-1, 1).to(x0)
    x_t = a.sqrt() * x0 + (1 - a) * noise
    loss = ((model(x_t, t) - noise) ** 2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()
""",
}

# ---------------------------------------------------------------------------- q9
_STEP = "def ddpm_step(model_output, t, x_t, alphas_cumprod, noise):\n"
_PREV = (
    "    abar_t = alphas_cumprod[t]\n"
    "    abar_prev = torch.where(t > 0, alphas_cumprod[(t - 1).clamp(min=0)],"
    " torch.ones_like(abar_t))\n"
)
_SHAPE = "    sh = (-1,) + (1,) * (x_t.dim() - 1)\n"


def _step(prev=_PREV, alpha="abar_t / abar_prev", var="beta * (1 - abar_prev) / (1 - abar_t)",
          mean="(x_t - c_eps * model_output) / a_sqrt", noise_term="var.sqrt().reshape(sh).to(x_t) * noise",
          c_eps="(beta / (1 - abar_t).sqrt())", a_sqrt="alpha.sqrt()", reshape=True):  # fmt: skip
    r = ".reshape(sh).to(x_t)" if reshape else ".to(x_t)"
    return (
        _STEP
        + prev
        + _SHAPE
        + f"    alpha = {alpha}\n"
        + "    beta = 1 - alpha\n"
        + f"    var = {var}\n"
        + f"    c_eps = {c_eps}{r}\n"
        + f"    a_sqrt = {a_sqrt}{r}\n"
        + f"    return {mean} + {noise_term}\n"
    )


Q9 = {
    "beta_where_posterior_variance_belongs": _step(var="beta"),
    "variance_times_noise_not_std": _step(noise_term="var.reshape(sh).to(x_t) * noise"),
    "abar_minus_one_wraps_at_t0": _step(
        prev="    abar_t = alphas_cumprod[t]\n    abar_prev = alphas_cumprod[t - 1]\n"
    ),
    "abar_prev_clamped_at_t0_adds_noise": _step(
        prev="    abar_t = alphas_cumprod[t]\n    abar_prev = torch.where(t > 0, alphas_cumprod[(t - 1).clamp(min=0)], alphas_cumprod[0] ** 0.5)\n"
    ),
    "alpha_is_abar": _step(alpha="abar_t"),
    "missing_sqrt_on_alpha": _step(a_sqrt="alpha"),
    "missing_sqrt_on_one_minus_abar": _step(c_eps="(beta / (1 - abar_t))"),
    "eps_coefficient_with_abar_not_beta": _step(c_eps="((1 - abar_t) / (1 - abar_t).sqrt())"),
    "sign_of_eps_flipped": _step(mean="(x_t + c_eps * model_output) / a_sqrt"),
    "broadcast_along_last_axis": _step(reshape=False, noise_term="var.sqrt().to(x_t) * noise"),
    "off_by_one_timestep": _step(
        prev="    abar_t = alphas_cumprod[(t + 1).clamp(max=alphas_cumprod.shape[0] - 1)]\n    abar_prev = alphas_cumprod[t]\n"
    ),
    "first_timestep_for_whole_batch": _step(prev="    t = t[0].expand(t.shape[0])\n" + _PREV),
    "hard_coded_float32": _step().replace("    return ", "    return (").rstrip("\n")
    + ").float()\n",
    "noise_ignored": _step(noise_term="0 * noise"),
    "betas_hard_coded_to_the_linear_schedule": _step(
        alpha="1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)[t]"
    ),
    "clips_x0_to_data_range": _STEP
    + _PREV
    + _SHAPE
    + """    a = abar_t.reshape(sh).to(x_t)
    ap = abar_prev.reshape(sh).to(x_t)
    alpha = a / ap
    x0 = ((x_t - (1 - a).sqrt() * model_output) / a.sqrt()).clamp(-1, 1)
    mean = (ap.sqrt() * (1 - alpha) * x0 + alpha.sqrt() * (1 - ap) * x_t) / (1 - a)
    return mean + ((1 - alpha) * (1 - ap) / (1 - a)).sqrt() * noise
""",
    "x0_form_with_coefficients_swapped": _STEP
    + _PREV
    + _SHAPE
    + """    a = abar_t.reshape(sh).to(x_t)
    ap = abar_prev.reshape(sh).to(x_t)
    alpha = a / ap
    x0 = (x_t - (1 - a).sqrt() * model_output) / a.sqrt()
    mean = (alpha.sqrt() * (1 - ap) * x0 + ap.sqrt() * (1 - alpha) * x_t) / (1 - a)
    return mean + ((1 - alpha) * (1 - ap) / (1 - a)).sqrt() * noise
""",
}

# ---------------------------------------------------------------------------- q10
_SAMPLE = """
def ddpm_sample(model, shape, alphas_cumprod, generator, dtype=torch.float32, return_trajectory=False):
    T = alphas_cumprod.shape[0]
    with torch.no_grad():
        x = {init}
        traj = [x]
        for step in {steps}:
            t = {tbatch}
            eps = model(x, t)
            z = {noise}
            x = ddpm_step(eps, {tstep}, x, alphas_cumprod, z)
            traj.append(x)
    if return_trajectory:
        return x, {traj}
    return x
"""
_OK = dict(
    init="torch.randn(shape, generator=generator, dtype=dtype)",
    steps="range(T - 1, -1, -1)",
    tbatch="torch.full((shape[0],), step, dtype=torch.long)",
    noise="torch.randn(x.shape, generator=generator, dtype=dtype)",
    tstep="t",
    traj="torch.stack(traj)",
)


def _sample(**changes):
    return _SAMPLE.format(**{**_OK, **changes})


Q10 = {
    "no_step_noise": _sample(noise="torch.zeros_like(x)"),
    "time_runs_forward": _sample(steps="range(T)"),
    "stops_before_t0": _sample(steps="range(T - 1, 0, -1)"),
    "starts_at_T": _sample(steps="range(T, -1, -1)"),
    "python_int_timestep": _sample(
        tbatch="step", tstep="torch.full((shape[0],), step, dtype=torch.long)"
    ),
    "float_timesteps": _sample(tbatch="torch.full((shape[0],), float(step))", tstep="t.long()"),
    "initial_noise_from_global_rng": _sample(init="torch.randn(shape, dtype=dtype)"),
    "step_noise_from_global_rng": _sample(noise="torch.randn_like(x)"),
    "uniform_initial_noise": _sample(init="torch.rand(shape, generator=generator, dtype=dtype)"),
    "one_noise_for_all_steps": _sample(
        init="torch.randn(shape, generator=generator, dtype=dtype); z0 = torch.randn(shape, generator=generator, dtype=dtype)",
        noise="z0",
    ),
    "dtype_ignored": _sample(
        init="torch.randn(shape, generator=generator)",
        noise="torch.randn(x.shape, generator=generator)",
    ),
    "trajectory_is_a_list": _sample(traj="traj"),
    "trajectory_without_initial_noise": _sample(traj="torch.stack(traj[1:])"),
    "zero_initial_state": _sample(init="torch.zeros(shape, dtype=dtype)"),
    "model_sees_t_plus_one": _sample(
        tbatch="torch.full((shape[0],), step + 1, dtype=torch.long)", tstep="t - 1"
    ),
    "step_at_t_minus_one": _sample(tstep="t - 1"),
    "step_at_t_plus_one": _sample(tstep="(t + 1).clamp(max=T - 1)"),
    "noise_with_one_coordinate": _sample(
        noise="torch.randn(shape[0], 1, generator=generator, dtype=dtype)"
    ),
}

BUGS = {"q2a": Q2A, "q2b": Q2B, "q4": Q4, "q7": Q7, "q8": Q8, "q9": Q9, "q10": Q10}

# ------------------------------------------------------- weakness classes (issue 11, item 5)
# Bugs that the first hidden suite let through, by class: (a) joint structure of the noise
# (independence across samples, coordinates and steps), (b) keyword defaults, (c) arguments
# modified in place, (d) a fallback or edge case that a degenerate input hides, (e) dtype,
# shape and gradient discipline. Each must fail a hidden test like every bug above.
WEAKNESS = {
    "q4": {
        "x0_scaled_in_place": (
            "c",
            """
def q_sample(x0, t, noise, alphas_cumprod):
    a = alphas_cumprod[t].reshape(-1, *([1] * (x0.dim() - 1))).to(x0)
    x0 *= a.sqrt()
    return x0 + (1 - a).sqrt() * noise
""",
        ),
    },
    "q7": {
        "error_accumulated_in_the_noise_tensor": (
            "c",
            _DSM
            + _QS
            + "    err = noise\n    err -= model(x_t, t)\n    return (err ** 2).mean()\n",
        ),
        "loss_computed_in_float64": (
            "e",
            _DSM + _QS + "    return ((model(x_t, t).double() - noise.double()) ** 2).mean()\n",
        ),
    },
    "q8": {
        "noise_shared_by_the_batch": (
            "a",
            _TS
            + _T_OK
            + "    noise = torch.randn((1,) + tuple(x0.shape[1:]), generator=generator, dtype=x0.dtype).expand_as(x0)\n"
            + _STEP_OK,
        ),
        "generator_reseeded_every_call": (
            "a",
            _TS
            + "    generator.manual_seed(generator.initial_seed())\n"
            + _T_OK
            + _N_OK
            + _STEP_OK,
        ),
        "timesteps_drawn_as_int32": (
            "e",
            _TS
            + "    t = torch.randint(0, T, (x0.shape[0],), generator=generator, dtype=torch.int32)\n"
            + _N_OK
            + _STEP_OK,
        ),
    },
    "q9": {
        "x_t_updated_in_place": (
            "c",
            _STEP
            + _PREV
            + _SHAPE
            + """    alpha = (abar_t / abar_prev).reshape(sh).to(x_t)
    a = abar_t.reshape(sh).to(x_t)
    ap = abar_prev.reshape(sh).to(x_t)
    x_t -= (1 - alpha) / (1 - a).sqrt() * model_output
    x_t /= alpha.sqrt()
    return x_t + ((1 - alpha) * (1 - ap) / (1 - a)).sqrt() * noise
""",
        ),
        "noise_scaled_in_place": (
            "c",
            _STEP
            + _PREV
            + _SHAPE
            + """    alpha = (abar_t / abar_prev).reshape(sh).to(x_t)
    a = abar_t.reshape(sh).to(x_t)
    ap = abar_prev.reshape(sh).to(x_t)
    noise *= ((1 - alpha) * (1 - ap) / (1 - a)).sqrt()
    return (x_t - (1 - alpha) / (1 - a).sqrt() * model_output) / alpha.sqrt() + noise
""",
        ),
        "no_noise_when_any_sample_is_at_t0": (
            "d",
            _STEP
            + _PREV
            + _SHAPE
            + """    alpha = (abar_t / abar_prev).reshape(sh).to(x_t)
    a = abar_t.reshape(sh).to(x_t)
    ap = abar_prev.reshape(sh).to(x_t)
    mean = (x_t - (1 - alpha) / (1 - a).sqrt() * model_output) / alpha.sqrt()
    if (t == 0).any():
        return mean
    return mean + ((1 - alpha) * (1 - ap) / (1 - a)).sqrt() * noise
""",
        ),
    },
    "q10": {
        "step_noise_reuses_the_initial_noise": (
            "a",
            _sample(
                init="torch.randn(shape, generator=generator, dtype=dtype); x_start = x",
                noise="x_start",
            ),
        ),
        "noise_shared_by_the_batch": (
            "a",
            _sample(
                noise="torch.randn((1,) + tuple(shape[1:]), generator=generator, dtype=dtype).expand(shape)"
            ),
        ),
        "default_dtype_float64": (
            "b",
            _sample().replace("dtype=torch.float32", "dtype=torch.float64"),
        ),
        "trajectory_returned_by_default": (
            "b",
            _sample().replace("return_trajectory=False", "return_trajectory=True"),
        ),
        "no_torch_no_grad": ("e", _sample().replace("    with torch.no_grad():", "    if True:")),
        "trajectory_squeezed": ("e", _sample(traj="torch.stack(traj).squeeze()")),
    },
}
for _question, _entries in WEAKNESS.items():
    for _name, (_cls, _source) in _entries.items():
        assert _name not in BUGS[_question], f"{_question}: {_name} is catalogued twice"
        BUGS[_question][_name] = _source
