"""Support code for Problem set 1 (given to you: you do not need to change it).

- two_moons: the 2D toy data set we learn to generate;
- TimeMLP: a small time-conditioned network eps_theta(x_t, t) for 2D data;
- sliced_wasserstein: a distance between two clouds of 2D points;
- particle_gif: writes an animated GIF of particles moving through a trajectory.

Everything here uses PyTorch, NumPy, Matplotlib and Pillow only.
"""

import io
import math

import numpy as np
import torch
import torch.nn as nn
from PIL import Image, ImageDraw


def two_moons(n, generator=None, noise=0.05):
    """n points (float32, shape (n, 2)) from two interleaving half circles.

    The points are centred and scaled to roughly unit spread, the range where
    diffusion with unit-variance noise works well.
    """
    n_outer = (n + 1) // 2
    n_inner = n - n_outer
    theta_outer = torch.rand(n_outer, generator=generator, dtype=torch.float64) * math.pi
    theta_inner = torch.rand(n_inner, generator=generator, dtype=torch.float64) * math.pi
    outer = torch.stack([torch.cos(theta_outer), torch.sin(theta_outer)], dim=1)
    inner = torch.stack([1 - torch.cos(theta_inner), 0.5 - torch.sin(theta_inner)], dim=1)
    x = torch.cat([outer, inner])  # (n, 2)
    x = x + noise * torch.randn(x.shape, generator=generator, dtype=torch.float64)
    x = x[torch.randperm(n, generator=generator)]
    x = (x - torch.tensor([0.5, 0.25], dtype=torch.float64)) * 2
    return x.float()


def timestep_embedding(t, dim=32, max_period=1000.0):
    """Sinusoidal features of the integer timesteps t (B,) -> (B, dim), as in transformers."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
    angles = t.float()[:, None] * freqs.to(t.device)[None, :]  # (B, half)
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=1)  # (B, dim)


class TimeMLP(nn.Module):
    """eps_theta(x_t, t): a small MLP for 2D data whose every layer also sees the time t.

    Called as model(x_t, t) with x_t of shape (B, 2) and t a LongTensor of shape (B,);
    returns the predicted noise, shape (B, 2).
    """

    def __init__(self, data_dim=2, width=128, num_layers=3, emb_dim=32):
        super().__init__()
        self.emb_dim = emb_dim
        self.inp = nn.Linear(data_dim, width)
        self.time = nn.ModuleList([nn.Linear(emb_dim, width) for _ in range(num_layers)])
        self.hidden = nn.ModuleList([nn.Linear(width, width) for _ in range(num_layers - 1)])
        self.out = nn.Linear(width, data_dim)

    def forward(self, x, t, labels=None):
        if t.shape != (x.shape[0],):
            raise ValueError(f"t must have shape ({x.shape[0]},), got {tuple(t.shape)}")
        emb = timestep_embedding(t, self.emb_dim).to(x.dtype)  # (B, emb_dim)
        h = self.inp(x)  # (B, width)
        for i, time_layer in enumerate(self.time):
            h = torch.nn.functional.silu(h + time_layer(emb))
            if i < len(self.hidden):
                h = self.hidden[i](h)
        return self.out(h)  # (B, data_dim)


def sliced_wasserstein(x, y, num_projections=500, seed=0):
    """Sliced 2-Wasserstein distance between point clouds x (N, D) and y (M, D).

    Projects both clouds on random directions and compares the sorted
    projections (quantiles). 0 for identical distributions; with a few thousand
    points, two independent samples of the same distribution give about 0.01-0.02.
    """
    x = torch.as_tensor(x, dtype=torch.float32).cpu()
    y = torch.as_tensor(y, dtype=torch.float32).cpu()
    g = torch.Generator().manual_seed(seed)
    dirs = torch.randn(x.shape[1], num_projections, generator=g)
    dirs = dirs / dirs.norm(dim=0, keepdim=True)  # (D, P)
    qs = torch.linspace(0.005, 0.995, 200)
    px = torch.quantile(x @ dirs, qs, dim=0)  # (200, P)
    py = torch.quantile(y @ dirs, qs, dim=0)
    return float(((px - py) ** 2).mean().sqrt())


def particle_gif(trajectory, reference=None, num_frames=60, fps=15, lim=3.5, size=320):
    """An animated GIF (bytes) of 2D particles moving along a sampling trajectory.

    trajectory: tensor (T + 1, N, 2) as returned by ddpm_sample: x_{T-1}, ..., x_0 and
    the final sample; reference: optional (M, 2) points drawn in grey behind (the data).
    At most num_frames frames are shown, denser towards the end of the trajectory, where
    the structure forms; the last frame is held for a second. Each frame is labelled with
    the timestep t of the state shown. Display with IPython.display.Image(data=gif_bytes).
    """
    traj = torch.as_tensor(trajectory).detach().cpu().float().numpy()
    last = len(traj) - 1
    u = np.linspace(0, 1, min(num_frames, len(traj)))
    idx = np.unique(np.round(last * (1 - (1 - u) ** 2)).astype(int))  # ease out
    ref = None if reference is None else torch.as_tensor(reference).cpu().float().numpy()

    def to_px(p):
        px = np.round((p[:, 0] + lim) / (2 * lim) * (size - 1)).astype(int)
        py = np.round((lim - p[:, 1]) / (2 * lim) * (size - 1)).astype(int)
        keep = np.isfinite(p).all(1) & (px >= 0) & (px < size) & (py >= 0) & (py < size)
        return px[keep], py[keep]

    frames = []
    for i in idx:
        img = Image.new("RGB", (size, size), (255, 255, 255))
        draw = ImageDraw.Draw(img)
        if ref is not None:
            for x, y in zip(*to_px(ref), strict=True):
                draw.rectangle([x, y, x + 1, y + 1], fill=(200, 200, 200))
        for x, y in zip(*to_px(traj[i]), strict=True):
            draw.rectangle([x - 1, y - 1, x + 1, y + 1], fill=(31, 119, 180))
        label = "final sample" if i == last else f"t = {last - 1 - i}"
        draw.text((8, 8), label, fill=(0, 0, 0))
        frames.append(img.convert("P", palette=Image.Palette.ADAPTIVE, colors=8))
    durations = [int(1000 / fps)] * len(frames)
    durations[-1] += 1000
    buf = io.BytesIO()
    frames[0].save(
        buf, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0
    )
    return buf.getvalue()
