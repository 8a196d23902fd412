"""Checks for arrays at entry points, with messages naming what was found and needed."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .errors import InputError

__all__ = ["check_capacities", "check_forbidden", "check_pairs", "check_scores"]


def check_scores(scores: Any, name: str = "scores") -> np.ndarray | sp.csr_array:
    """Return ``scores`` as a float64 ndarray or CSR array after checking it.

    Raises:
        InputError: not 2-D, empty, NaN/infinite, or values outside 0-100.
    """
    if sp.issparse(scores):
        mat = sp.csr_array(scores, dtype=np.float64)
        mat.sum_duplicates()
        values = mat.data
    else:
        try:
            mat = np.asarray(scores, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{name} must be numeric; could not convert: {exc}") from None
        values = mat
    if mat.ndim != 2:
        raise InputError(f"{name} has {mat.ndim} dimension(s); need a 2-D (mentees, mentors) array")
    n, m = mat.shape
    if n == 0:
        raise InputError(f"{name} has shape ({n}, {m}); need one row per mentee")
    if m == 0:
        raise InputError(f"{name} has shape ({n}, {m}); need one column per mentor")
    if values.size and not np.isfinite(values).all():
        bad = int(np.count_nonzero(~np.isfinite(values)))
        raise InputError(f"{name} has {bad} NaN or infinite value(s); need finite scores 0-100")
    if values.size and (values.min() < 0 or values.max() > 100):
        raise InputError(
            f"{name} has values from {values.min():g} to {values.max():g}; need scores in 0-100"
        )
    return mat


def check_capacities(capacities: Any, n_mentors: int) -> np.ndarray:
    """Return capacities as an int64 array of length ``n_mentors``.

    Raises:
        InputError: wrong length, non-integer or negative values.
    """
    caps = np.asarray(capacities)
    if caps.ndim == 0:
        caps = np.full(n_mentors, caps)
    if caps.ndim != 1 or caps.shape[0] != n_mentors:
        raise InputError(
            f"capacities has shape {caps.shape}; need one entry per mentor ({n_mentors},)"
        )
    if caps.size and not np.issubdtype(caps.dtype, np.integer):
        as_float = caps.astype(np.float64)
        if not np.all(np.isfinite(as_float)) or not np.all(as_float == np.round(as_float)):
            raise InputError(f"capacities has dtype {caps.dtype} with non-integers; need integers")
    caps = caps.astype(np.int64)
    if caps.size and caps.min() < 0:
        j = int(np.argmin(caps))
        raise InputError(f"capacities[{j}] is {caps[j]}; need capacities >= 0")
    return caps


def check_forbidden(forbidden: Any, shape: tuple[int, int]) -> np.ndarray | sp.csr_array | None:
    """Return the forbidden mask as a bool ndarray (or bool CSR), or None.

    Raises:
        InputError: shape differs from the score matrix, or not boolean.
    """
    if forbidden is None:
        return None
    if sp.issparse(forbidden):
        mask = sp.csr_array(forbidden)
        if mask.dtype != bool:
            raise InputError(f"forbidden has dtype {mask.dtype}; need a boolean mask")
    else:
        mask = np.asarray(forbidden)
        if mask.dtype != bool:
            raise InputError(f"forbidden has dtype {mask.dtype}; need a boolean mask")
    if mask.shape != shape:
        raise InputError(f"forbidden has shape {mask.shape}; need the scores' shape {shape}")
    return mask


def check_pairs(pairs: Any, shape: tuple[int, int], name: str) -> np.ndarray:
    """Return (mentee, mentor) index pairs as an (p, 2) int64 array.

    Raises:
        InputError: not (p, 2), or indices out of range.
    """
    if pairs is None:
        return np.zeros((0, 2), dtype=np.int64)
    arr = np.asarray(pairs, dtype=np.int64).reshape(-1, 2) if len(pairs) else np.zeros((0, 2))
    arr = arr.astype(np.int64)
    n, m = shape
    if arr.size and (arr[:, 0].min() < 0 or arr[:, 0].max() >= n):
        raise InputError(f"{name} has a mentee index outside 0..{n - 1}")
    if arr.size and (arr[:, 1].min() < 0 or arr[:, 1].max() >= m):
        raise InputError(f"{name} has a mentor index outside 0..{m - 1}")
    return arr
