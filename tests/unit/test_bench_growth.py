"""Linearity of measured costs: ratios, marginal cost per unit, least-squares fit."""

from __future__ import annotations

import pytest

from bench.growth import growth


def test_affine_cost_is_linear_with_exact_fit() -> None:
    result = growth([(250, 2.0 + 0.5 * 250), (10, 2.0 + 0.5 * 10), (100, 2.0 + 0.5 * 100)])
    assert result.sizes == (10, 100, 250)
    assert result.size_ratios == (10.0, 2.5)
    assert result.marginal == pytest.approx((0.5, 0.5))
    assert result.slope == pytest.approx(0.5) and result.intercept == pytest.approx(2.0)
    assert result.r2 == pytest.approx(1.0) and result.linear
    assert result.time_ratios == pytest.approx((52 / 7, 127 / 52))


def test_quadratic_cost_is_not_linear() -> None:
    result = growth([(n, 0.01 * n * n) for n in (10, 100, 250)])
    assert not result.linear
    assert result.marginal[1] > 2 * result.marginal[0]


def test_small_noise_stays_linear() -> None:
    assert growth([(10, 24.3), (100, 61.0), (250, 130.0)]).linear


def test_summary_names_each_step_and_fit() -> None:
    text = growth([(10, 1.0), (100, 10.0)]).summary()
    assert "10->100: x10.00 s for x10.0 size (100 ms/domain marginal)" in text
    assert "fit 0.00 s + 100.0 ms/domain, R²=1.000" in text
    cpu = growth([(10, 1.0), (100, 10.0)]).summary("domain", "CPU-s", "CPU-ms")
    assert "x10.00 CPU-s for x10.0 size (100 CPU-ms/domain marginal)" in cpu and "fit 0.00 CPU-s + 100.0" in cpu


def test_needs_two_sizes() -> None:
    with pytest.raises(ValueError, match="two distinct sizes"):
        growth([(10, 1.0), (10, 2.0)])
