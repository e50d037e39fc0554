"""Figures of lectures 14-17: denoisers as priors, latent diffusion, evaluation, auditing."""

from __future__ import annotations

from pathlib import Path

import torch

from diffcourse_staff.site.gallery.common import digits_sample
from diffcourse_staff.site.gallery.lectures_12_13 import three_modes
from diffcourse_staff.site.gallery.style import gen, pyplot, save


def l14_superresolution(path: Path) -> None:
    """Digits from their 2x2 block averages: pseudo-inverse, PnP, RED and null-space DDIM."""
    from torch.nn import functional as F

    from diffcourse.data import load_digits
    from diffcourse.plotting import make_grid
    from diffcourse.pretrained import load_digits_model
    from diffcourse.priors import (
        denoiser_from_eps,
        null_space_ddim,
        pnp_hqs,
        project_measurements,
        red_solve,
    )
    from diffcourse.samplers import make_predict

    plt = pyplot()
    model = load_digits_model()
    abar = model.alphas_cumprod
    predict = make_predict(model)  # the null label: an unconditional prior
    denoise = denoiser_from_eps(predict, abar)
    images, _ = load_digits("test")
    x0 = images[:10]  # (10, 1, 8, 8)
    A = lambda x: F.avg_pool2d(x, 2)  # (B, 1, 4, 4); A A^T = I / 4
    A_pinv = lambda y: F.interpolate(y, scale_factor=2, mode="nearest")  # = 4 A^T
    y = A(x0)
    project = lambda z: project_measurements(z, y, A, A_pinv)
    with torch.no_grad():
        pnp = pnp_hqs(denoise, torch.linspace(200, 0, 30).round().long().tolist(), A_pinv(y),
                      project)  # fmt: skip
        data_grad = lambda x: A_pinv(A(x) - y) / 4 / 0.01  # A^T (A x - y) / s^2, s = 0.1
        red = red_solve(denoise, 100, A_pinv(y), data_grad, 2.0, 0.005, 300)
        samples = [
            null_space_ddim(predict, y, A, A_pinv, abar, 50,
                            torch.randn(x0.shape, generator=gen(70 + k)))
            for k in range(2)
        ]  # fmt: skip

    def psnr(x):  # images in [-1, 1]: peak-to-peak 2
        mse = ((x.clamp(-1, 1) - x0) ** 2).flatten(1).mean(1)
        return (10 * torch.log10(4 / mse)).mean().item()

    rows = [("truth", x0), ("observed (A+ y)", A_pinv(y)), ("plug-and-play", pnp), ("RED", red),
            ("null-space DDIM", samples[0]), ("another seed", samples[1])]  # fmt: skip
    fig, ax = plt.subplots(figsize=(5.6, 4.0))
    ax.imshow(make_grid(torch.cat([r[1] for r in rows]), nrow=10), cmap="gray",
              interpolation="nearest")  # fmt: skip
    labels = [name if k == 0 else f"{name}: {psnr(x):.1f} dB" for k, (name, x) in enumerate(rows)]
    ax.set_yticks([4.5 + 9 * i for i in range(len(rows))], labels)
    ax.set_xticks([])
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    save(fig, path)


def l15_latent(path: Path) -> None:
    """A PCA autoencoder's reconstructions, and a small diffusion model trained on its latents."""
    from diffcourse.data import load_digits
    from diffcourse.latent import PCAAutoencoder
    from diffcourse.losses import dsm_loss
    from diffcourse.models import TimeMLP
    from diffcourse.plotting import make_grid
    from diffcourse.samplers import ddim_sample
    from diffcourse.schedules import make_schedule

    plt = pyplot()
    train, _ = load_digits("train")
    test, _ = load_digits("test")
    shown = test[:10]
    rows, names = [shown], ["test digits"]
    ks = (4, 8, 16, 32)
    errors = []
    for k in ks:
        ae = PCAAutoencoder(train, k)
        rec = ae.decode(ae.encode(test))
        errors.append((rec - test).pow(2).mean().item() / test.var().item())
        rows.append(rec[:10])
        names.append(f"k = {k}: {errors[-1]:.0%} of variance lost")
    ae = PCAAutoencoder(train, 16)
    latents = ae.encode(train).float()  # (1500, 16), unit mean square
    abar = make_schedule("cosine")
    torch.manual_seed(80)
    model = TimeMLP(data_dim=16)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    g = gen(81)
    for _ in range(1000):
        idx = torch.randint(0, latents.shape[0], (256,), generator=g)
        t = torch.randint(0, 1000, (256,), generator=g)
        loss = dsm_loss(model, latents[idx], t, torch.randn((256, 16), generator=g), abar)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        z = ddim_sample(model, (10, 16), abar, 50, gen(82))
    rows.append(ae.decode(z).clamp(-1, 1))
    names.append("latent diffusion, k = 16")
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9, 3.6), width_ratios=(1.6, 1))
    ax.imshow(make_grid(torch.cat(rows), nrow=10), cmap="gray", interpolation="nearest")
    ax.set_yticks([4.5 + 9 * i for i in range(len(rows))], names)
    ax.set_xticks([])
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    var = ae.variances  # (64,) every component's variance, largest first
    kept = torch.cat([torch.zeros(1, dtype=var.dtype), var.cumsum(0) / var.sum()])  # k = 0..64
    ax2.plot(range(65), kept.tolist(), marker=".")
    ax2.set_xlabel("latent dimensions k (of 64 pixels)")
    ax2.set_ylabel("fraction of pixel variance kept")
    ax2.set_ylim(0, 1.02)
    fig.tight_layout()
    save(fig, path)


def l16_evaluation(path: Path) -> None:
    """FD's sample-size bias, precision and recall of four toy models, and a copy test."""
    from diffcourse.data import load_digits
    from diffcourse.metrics import (
        frechet_distance,
        knn_precision_recall,
        nearest_neighbour_distance,
    )
    from diffcourse.pretrained import load_digits_model
    from diffcourse.samplers import ddim_sample
    from diffcourse.scores import GaussianMixture

    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.3), width_ratios=(1, 1.2, 1))
    # (a) Two samples of the same Gaussian are at a positive, n-dependent distance.
    g = gen(90)
    sizes = [100, 200, 500, 1000, 2000, 5000]
    for d, color in ((16, "C0"), (64, "C1")):
        fd = [
            sum(frechet_distance(torch.randn((n, d), generator=g, dtype=torch.float64),
                                 torch.randn((n, d), generator=g, dtype=torch.float64)).item()
                for _ in range(3)) / 3
            for n in sizes
        ]  # fmt: skip
        axes[0].loglog(sizes, fd, marker="o", color=color, label=f"FD, d = {d}")
        axes[0].loglog(sizes, [2 * d / n for n in sizes], ls="--", color=color,
                       label="mean term alone, 2d/n")  # fmt: skip
    axes[0].set_xlabel("samples per set, n")
    axes[0].set_ylabel("Frechet distance")
    axes[0].set_title("same distribution, two samples")
    axes[0].legend(fontsize=7)
    # (b) Precision (fidelity) and recall (coverage) separate what one number mixes.
    mixture = three_modes()
    real = mixture.sample(1500, gen(91))
    eye = torch.eye(2, dtype=torch.float64)
    models = {
        "good": mixture,
        "one mode\ndropped": GaussianMixture(mixture.means[:2], mixture.covs[:2],
                                              mixture.weights[:2]),
        "too wide": GaussianMixture(mixture.means, mixture.covs * 6.25, mixture.weights),
        "too narrow": GaussianMixture(mixture.means, mixture.covs * 0.16, mixture.weights),
        "noise\n(no model)": GaussianMixture(torch.zeros(1, 2, dtype=torch.float64),
                                             (4 * eye)[None], torch.ones(1, dtype=torch.float64)),
    }  # fmt: skip
    xs = torch.arange(len(models), dtype=torch.float64)
    pr, fds = [], []
    for k, m in enumerate(models.values()):
        fake = m.sample(1500, gen(92 + k))
        pr.append(knn_precision_recall(real, fake, k=3))
        fds.append(frechet_distance(real, fake).item())
    axes[1].bar(xs - 0.2, [p for p, _ in pr], 0.4, label="precision")
    axes[1].bar(xs + 0.2, [r for _, r in pr], 0.4, label="recall")
    for x, fd in zip(xs.tolist(), fds, strict=True):
        axes[1].text(x, 1.04, f"FD {fd:.2f}", ha="center", fontsize=7)
    axes[1].set_xticks(xs.tolist(), list(models), fontsize=7)
    axes[1].set_ylim(0, 1.15)
    axes[1].set_title("three-cluster toy: k-NN precision and recall (k = 3)")
    axes[1].legend(fontsize=7, loc="center right")
    # (c) Copies sit closer to the training set than fresh data does.
    train, _ = load_digits("train")
    test, _ = load_digits("test")
    n = test.shape[0]
    model = load_digits_model()
    with torch.no_grad():
        samples = ddim_sample(model, (n, 1, 8, 8), model.alphas_cumprod, 50, gen(93),
                              clip_sample=True)  # fmt: skip
    copies = train[:n] + 0.05 * torch.randn(train[:n].shape, generator=gen(94))
    flat = lambda x: x.reshape(x.shape[0], -1)
    bins = torch.linspace(0, 6, 41).tolist()
    for name, x, color in (("held-out test digits", test, "gray"),
                           ("samples of the digits model", samples, "C0"),
                           ("a copier: training digits + noise", copies, "C3")):  # fmt: skip
        dist = nearest_neighbour_distance(flat(x), flat(train))
        axes[2].hist(dist.tolist(), bins=bins, alpha=0.55, color=color, label=name)
    axes[2].set_xlabel("distance to the nearest training digit")
    axes[2].set_ylabel("count")
    axes[2].set_title("memorisation test")
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    save(fig, path)


def l17_audit(path: Path) -> None:
    """Auditing the digits model: class shares of unconditional samples, per-class success."""
    from diffcourse.data import load_digits
    from diffcourse.judge import DigitsJudge
    from diffcourse.pretrained import load_digits_model

    plt = pyplot()
    model = load_digits_model()
    judge = DigitsJudge()
    _, train_labels = load_digits("train")
    test, test_labels = load_digits("test")
    n = 1000
    with torch.no_grad():
        free = digits_sample(model, torch.full((n,), model.null_label), seed=100,
                              guidance_scale=None)  # fmt: skip
        asked = torch.arange(10).repeat_interleave(50)  # 50 requests per class
        guided = digits_sample(model, asked, seed=101, guidance_scale=1.0)  # no guidance
    share = torch.bincount(judge.predict(free), minlength=10).double() / n
    truth = torch.bincount(train_labels, minlength=10).double() / train_labels.shape[0]
    half = 1.96 * (share * (1 - share) / n).sqrt()  # 95% normal interval of a proportion
    digits = torch.arange(10, dtype=torch.float64)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.2))
    ax1.bar(digits - 0.2, truth.tolist(), 0.4, color="gray", label="training set")
    ax1.bar(digits + 0.2, share.tolist(), 0.4, yerr=half.tolist(), capsize=2,
            label=f"{n} unconditional samples, as read by the judge")  # fmt: skip
    ax1.set_xticks(range(10))
    ax1.set_xlabel("digit")
    ax1.set_ylabel("share")
    ax1.set_title("who gets generated?")
    ax1.legend(fontsize=7, loc="lower center")
    ok = (judge.predict(guided) == asked).double().reshape(10, 50).mean(1)
    judge_ok = torch.stack(
        [(judge.predict(test[test_labels == c]) == c).double().mean() for c in range(10)]
    )
    ax2.bar(digits - 0.2, judge_ok.tolist(), 0.4, color="gray", label="judge on real test digits")
    ax2.bar(digits + 0.2, ok.tolist(), 0.4, label="samples read as the class asked for (w = 1)")
    ax2.set_xticks(range(10))
    ax2.set_ylim(0, 1.1)
    ax2.set_xlabel("digit")
    ax2.set_ylabel("fraction")
    ax2.set_title("does every class get the same quality?")
    ax2.legend(fontsize=7, loc="lower center")
    save(fig, path)
