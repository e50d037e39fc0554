"""GIF animations and figures: frames, pixel placement, determinism, errors."""

import hashlib

import numpy as np
import pytest
import torch
from PIL import Image

from diffcourse.animate import trajectory_to_gif
from diffcourse.plotting import make_grid, plot_2d, save_image_grid, show_images


def frames_of(path):
    with Image.open(path) as im:
        out = []
        for i in range(im.n_frames):
            im.seek(i)
            out.append(np.asarray(im.convert("RGB")))
        return out


def test_particles_gif_places_points_and_is_deterministic(tmp_path):
    # three frames: one particle moving from (-1, 0) to (0, 0) to (1, 1); view half-width 2
    traj = torch.tensor([[[-1.0, 0.0]], [[0.0, 0.0]], [[1.0, 1.0]]])
    p1 = trajectory_to_gif(traj, tmp_path / "a.gif", lim=2.0, size=101, radius=0)
    p2 = trajectory_to_gif(traj.numpy(), tmp_path / "b.gif", lim=2.0, size=101, radius=0)
    assert hashlib.sha256(p1.read_bytes()).digest() == hashlib.sha256(p2.read_bytes()).digest()
    frames = frames_of(p1)
    assert len(frames) == 3 and frames[0].shape == (101, 101, 3)
    blue = np.array([31, 119, 180])
    # x = -1 of [-2, 2] maps to column 25; y = 1 maps to row 25 (rows grow downwards)
    assert (frames[0][50, 25] == blue).all()
    assert (frames[1][50, 50] == blue).all()
    assert (frames[2][25, 75] == blue).all()
    assert (frames[2] == blue).all(axis=2).sum() == 1


def test_particles_with_reference_and_frame_limit(tmp_path):
    g = torch.Generator().manual_seed(0)
    traj = torch.randn(200, 300, 2, generator=g)
    ref = torch.randn(500, 2, generator=g)
    path = trajectory_to_gif(traj, tmp_path / "p.gif", reference=ref, max_frames=25, fps=20)
    with Image.open(path) as im:
        assert im.n_frames <= 25
        assert im.info["loop"] == 0
    assert path.stat().st_size < 400_000


def test_image_gif_shows_the_images(tmp_path):
    frames = torch.full((4, 2, 1, 8, 8), -1.0)
    for k in range(4):
        frames[k, 0] = -1.0 + 2.0 * k / 3  # the first image brightens from black to white
    path = trajectory_to_gif(frames, tmp_path / "i.gif", kind="images", upscale=2, nrow=2, fps=10)
    out = frames_of(path)
    assert len(out) == 4
    with Image.open(path) as im:
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
    assert durations == [100, 100, 100, 1100]  # 1 / fps each, plus hold_last on the last
    # grid: 1 px padding (white), 2 images of 8 px, upscaled x2 -> (10 * 2, 19 * 2)
    assert out[0].shape == (20, 38, 3)
    assert (out[-1][2:18, 2:18] == 255).all() and (out[-1][2:18, 20:36] == 0).all()
    assert (out[0][2:18, 2:18] == 0).all()


def test_rgb_image_gif(tmp_path):
    frames = torch.zeros(3, 4, 3, 8, 8)
    for k in range(3):
        frames[k, :, k] = 1.0  # red, then green, then blue channel up
    path = trajectory_to_gif(list(frames), tmp_path / "rgb.gif", kind="images", upscale=1)
    out = frames_of(path)
    assert len(out) == 3
    # pixel (1, 1) lies in the first image: its brightest channel is the raised one
    assert [int(np.argmax(f[1, 1])) for f in out] == [0, 1, 2]


def test_animation_errors(tmp_path):
    with pytest.raises(ValueError, match="kind"):
        trajectory_to_gif(torch.zeros(2, 3, 2), tmp_path / "x.gif", kind="video")
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        trajectory_to_gif(torch.zeros(2, 3, 3), tmp_path / "x.gif")
    with pytest.raises(ValueError, match="no frames"):
        trajectory_to_gif([], tmp_path / "x.gif")
    with pytest.raises(ValueError, match="fps"):
        trajectory_to_gif(torch.zeros(2, 3, 2), tmp_path / "x.gif", fps=0)


def test_make_grid_layout_and_scaling():
    imgs = torch.stack([torch.full((1, 2, 2), v) for v in (-1.0, 0.0, 1.0, 5.0, -5.0)])
    grid = make_grid(imgs, nrow=3, padding=1)
    assert grid.shape == (2 * 3 + 1, 3 * 3 + 1)
    assert grid[1, 1] == 0.0 and grid[1, 4] == 0.5 and grid[1, 7] == 1.0
    assert grid[4, 1] == 1.0 and grid[4, 4] == 0.0  # clipped to [-1, 1]
    assert grid[0, 0] == 1.0  # padding
    assert make_grid(torch.zeros(4, 3, 5, 5)).shape == (13, 13, 3)
    with pytest.raises(ValueError, match="shape"):
        make_grid(torch.zeros(4, 2, 5, 5))


def test_figures(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    x = torch.rand(6, 1, 8, 8) * 2 - 1
    fig = show_images(x, nrow=3, title="digits")
    assert isinstance(fig, Figure)
    fig2 = show_images(x, labels=torch.arange(6))
    assert len([a for a in fig2.axes if a.get_title()]) == 6
    fig3 = plot_2d(torch.randn(50, 2), reference=torch.randn(80, 2), title="moons")
    assert len(fig3.axes[0].collections) == 2
    with pytest.raises(ValueError, match="labels"):
        show_images(x, labels=[1, 2])
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plot_2d(torch.randn(5, 3))
    save_image_grid(x, tmp_path / "g.png", nrow=3, upscale=2)
    with Image.open(tmp_path / "g.png") as im:
        assert im.size == (2 * (3 * 9 + 1), 2 * (2 * 9 + 1))
    plt.close("all")
