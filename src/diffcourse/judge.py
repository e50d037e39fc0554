"""A fixed digit classifier that judges generated 8x8 digits.

DigitsJudge is an RBF support-vector classifier, SVC(gamma=0.001, C=10), fitted
on the 1500 training digits of scikit-learn's digits (the fixed split of
``load_digits``); it reads about 99% of the 297 held-out test digits. Fitting
takes a fraction of a second and is done once per process, at first use.

Inputs are images in the diffusion models' range [-1, 1], shaped (N, 1, 8, 8)
or (N, 8, 8) or (N, 64), as torch tensors or numpy arrays. Values are clipped
to [-1, 1] first (a diverged sampler still gets a verdict) and mapped back to
the classifier's 0..16 pixel scale.

Features for a Frechet distance: the 45 decision values of the SVC's pairwise
(one-vs-one) classifiers, a fixed 45-dimensional space that measures how
digit-like and how class-typical images are. ``frechet_distance(images)``
compares a batch with the held-out test digits in that space; as a scale,
the 1500 real training digits are at about ``reference_frechet_distance()``
from the test digits (a few hundred samples give a noisier, larger figure).

This module is handed to students as a support file: it imports only numpy,
torch and scikit-learn.
"""

from __future__ import annotations

import numpy as np
import torch

_CACHE: dict = {}


def _digits_split():
    """(x_train, y_train, x_test, y_test) in sklearn's 0..16 scale, the fixed 1500/297 split."""
    if "split" not in _CACHE:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        bunch = load_digits()
        x = bunch.data.astype(np.float64)  # (1797, 64), values 0..16
        y = bunch.target.astype(np.int64)
        index = np.arange(len(y))
        train_idx, test_idx = train_test_split(index, test_size=297, stratify=y, random_state=0)
        train_idx, test_idx = np.sort(train_idx), np.sort(test_idx)
        _CACHE["split"] = (x[train_idx], y[train_idx], x[test_idx], y[test_idx])
    return _CACHE["split"]


def _fitted_svc():
    if "svc" not in _CACHE:
        from sklearn.svm import SVC

        x_train, y_train, _, _ = _digits_split()
        _CACHE["svc"] = SVC(gamma=0.001, C=10, decision_function_shape="ovo").fit(x_train, y_train)
    return _CACHE["svc"]


def frechet_distance_from_features(feat_x: np.ndarray, feat_y: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (N, D) and (M, D).

    ||mu_x - mu_y||^2 + tr(S_x + S_y - 2 (S_x^{1/2} S_y S_x^{1/2})^{1/2}), with the
    matrix square roots taken by symmetric eigendecompositions (negative
    round-off eigenvalues clipped to 0), in float64.
    """
    feat_x = np.asarray(feat_x, dtype=np.float64)
    feat_y = np.asarray(feat_y, dtype=np.float64)
    if feat_x.ndim != 2 or feat_y.ndim != 2 or feat_x.shape[1] != feat_y.shape[1]:
        raise ValueError(
            f"features must be (N, D) and (M, D), got {feat_x.shape} and {feat_y.shape}"
        )
    if len(feat_x) < 2 or len(feat_y) < 2:
        raise ValueError("need at least two samples in each feature set")

    def sqrtm_psd(a: np.ndarray) -> np.ndarray:
        w, v = np.linalg.eigh((a + a.T) / 2)
        return (v * np.sqrt(np.clip(w, 0, None))) @ v.T

    mu_x, mu_y = feat_x.mean(0), feat_y.mean(0)
    cov_x = np.atleast_2d(np.cov(feat_x, rowvar=False))  # (D, D)
    cov_y = np.atleast_2d(np.cov(feat_y, rowvar=False))
    root_x = sqrtm_psd(cov_x)
    cross = sqrtm_psd(root_x @ cov_y @ root_x)
    value = np.sum((mu_x - mu_y) ** 2) + np.trace(cov_x) + np.trace(cov_y) - 2 * np.trace(cross)
    return float(max(value, 0.0))


class DigitsJudge:
    """Classifier-based verdicts on 8x8 digits in [-1, 1] (see the module docstring)."""

    num_classes = 10

    @staticmethod
    def _to_pixels(images) -> np.ndarray:
        """Images in [-1, 1] (N, 1, 8, 8), (N, 8, 8) or (N, 64) -> (N, 64) in 0..16, float64."""
        if isinstance(images, torch.Tensor):
            images = images.detach().to("cpu", torch.float64).numpy()
        x = np.asarray(images, dtype=np.float64)
        if x.ndim == 4 and x.shape[1:] == (1, 8, 8):
            x = x.reshape(len(x), 64)
        elif x.ndim == 3 and x.shape[1:] == (8, 8):
            x = x.reshape(len(x), 64)
        elif not (x.ndim == 2 and x.shape[1] == 64):
            raise ValueError(
                f"images must have shape (N, 1, 8, 8), (N, 8, 8) or (N, 64), got {x.shape}"
            )
        if len(x) == 0:
            raise ValueError("images is empty")
        if not np.isfinite(x).all():
            raise ValueError("images contain NaN or infinite values")
        return (np.clip(x, -1.0, 1.0) + 1.0) * 8.0

    def predict(self, images) -> torch.Tensor:
        """Predicted class of each image, a LongTensor (N,)."""
        pred = _fitted_svc().predict(self._to_pixels(images))
        return torch.from_numpy(pred.astype(np.int64))

    def accuracy(self, images, labels) -> float:
        """Fraction of images the judge reads as their intended label."""
        labels = torch.as_tensor(labels).reshape(-1).long().cpu()
        pred = self.predict(images)
        if labels.shape != pred.shape:
            raise ValueError(f"labels must have shape ({len(pred)},), got {tuple(labels.shape)}")
        return float((pred == labels).double().mean())

    def class_counts(self, images) -> torch.Tensor:
        """How many images the judge reads as each digit, a LongTensor (10,)."""
        return torch.bincount(self.predict(images), minlength=10)

    def features(self, images) -> np.ndarray:
        """The 45 one-vs-one SVC decision values of each image, float64 (N, 45)."""
        return _fitted_svc().decision_function(self._to_pixels(images))

    def test_features(self) -> np.ndarray:
        """Features of the 297 held-out test digits (the reference distribution)."""
        if "test_features" not in _CACHE:
            _, _, x_test, _ = _digits_split()
            _CACHE["test_features"] = _fitted_svc().decision_function(x_test)
        return _CACHE["test_features"]

    def frechet_distance(self, images) -> float:
        """Frechet distance between the images and the held-out test digits, in feature space."""
        return frechet_distance_from_features(self.features(images), self.test_features())

    def reference_frechet_distance(self) -> float:
        """The same distance for the 1500 real training digits: the figure real data reaches."""
        x_train, _, _, _ = _digits_split()
        feats = _fitted_svc().decision_function(x_train)
        return frechet_distance_from_features(feats, self.test_features())
