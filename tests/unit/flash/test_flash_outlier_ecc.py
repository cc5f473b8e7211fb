"""On-die outlier ECC: spare budget, Hamming correction, and GEMV error with and without it."""
import numpy as np
import pytest

from hwsim.components.flash import outlier_ecc as ecc


def heavy_tailed_page(rng, n=16384):
    """INT8 weights: mostly small, 1% large outliers (the distribution the scheme targets)."""
    w = np.clip(np.round(rng.normal(0, 6, n)), -127, 127)
    outliers = rng.choice(n, n // 100, replace=False)
    w[outliers] = rng.choice([-1, 1], outliers.size) * rng.integers(60, 127, outliers.size)
    return w.astype(np.int8)


def test_spare_budget_matches_the_paper():
    assert ecc.protected_count(16384) == 163
    assert ecc.spare_bytes(16384) == pytest.approx(722, abs=1) and ecc.spare_bytes(16384) <= 1664


def test_protected_flip_rate_is_about_3x_squared():
    assert ecc.protected_flip_rate(1e-4) == pytest.approx(3e-8, rel=1e-3)


def test_hamming_corrects_any_single_bit_error():
    addresses = np.arange(0, 16384, 97)
    code = ecc.hamming_encode(addresses)
    for bit in range(code.shape[1]):
        flipped = code.copy()
        flipped[:, bit] ^= 1
        assert np.array_equal(ecc.hamming_decode(flipped), addresses)


def test_error_free_read_is_unchanged():
    page = heavy_tailed_page(np.random.default_rng(0))
    assert np.array_equal(ecc.correct(page, ecc.protect(page)), page)


def test_gemv_error_with_and_without_outlier_ecc():
    rng = np.random.default_rng(1)
    rows, rber = 64, 2e-4                     # 64 x 256 page tile; RBER where the paper keeps 92-95%
    errors = {"raw": [], "ecc": []}
    for _ in range(20):
        page = heavy_tailed_page(rng)
        x = rng.integers(-127, 128, 256)
        exact = page.reshape(rows, -1).astype(np.int64) @ x
        read = ecc.corrupt_page(page, rber, rng)
        fixed = ecc.correct(read, ecc.corrupt_spare(ecc.protect(page), rber, rng))
        for name, got in (("raw", read), ("ecc", fixed)):
            errors[name].append(np.linalg.norm(got.reshape(rows, -1).astype(np.int64) @ x - exact) / np.linalg.norm(exact))
    raw, protected = np.mean(errors["raw"]), np.mean(errors["ecc"])
    assert protected < raw / 3, (raw, protected)      # measured: 0.048 vs 0.160
