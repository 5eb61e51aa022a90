"""Writes the STU filter fixtures used by StuFiltersFixtureTest.

flash-stu's get_spectral_filters: Z = get_hankel(L, use_hankel_L) in float64, sigma, phi = eigh(Z),
take the last K (ascending order), phi_k *= sigma_k ** 0.25. On top of that, as longconv documents,
each column's sign is fixed so its largest-magnitude entry (the first, on a tie) is positive.

Run from this directory: python3 make_stu_fixtures.py   (needs numpy only)
Writes filters_<variant>_L64_K8.npy ([L, K] float64) and sigma_<variant>_L64_K8.npy ([K] float64), and
filters_hankel_L1024_K24.npy with the spread of LAPACK's own drivers there (numpy's eigh is syevd; scipy, when
importable, gives syevr and syev) printed: the test holds longconv's filters within 1e-6 of the largest filter's
norm of numpy's, where the drivers differ by about 6e-7.
"""
import numpy as np


def hankel(L, variant):
    i = np.arange(1, L + 1, dtype=np.float64)
    s = i[:, None] + i[None, :]
    if variant == "hankel":
        return 2.0 / (s ** 3 - s)
    return ((-1.0) ** (s - 2) + 1.0) * 8.0 / ((s + 3) * (s - 1) * (s + 1))


def filters(L, K, variant):
    sigma, phi = np.linalg.eigh(hankel(L, variant))
    sigma_k, phi_k = sigma[-K:], phi[:, -K:].copy()
    phi_k *= np.maximum(sigma_k, 0.0) ** 0.25
    for k in range(K):
        if phi_k[np.argmax(np.abs(phi_k[:, k])), k] < 0:
            phi_k[:, k] = -phi_k[:, k]
    return sigma_k, phi_k


if __name__ == "__main__":
    for variant in ("hankel", "hankel-l"):
        sigma_k, phi_k = filters(64, 8, variant)
        np.save(f"filters_{variant}_L64_K8.npy", phi_k)
        np.save(f"sigma_{variant}_L64_K8.npy", sigma_k)
    sigma_k, phi_k = filters(1024, 24, "hankel")
    np.save("filters_hankel_L1024_K24.npy", phi_k)
    try:
        import scipy.linalg
        z, top = hankel(1024, "hankel"), np.linalg.norm(phi_k[:, -1])
        for driver in ("evr", "ev"):
            w, v = scipy.linalg.eigh(z, driver=driver)
            other = v[:, -24:] * np.maximum(w[-24:], 0.0) ** 0.25
            other *= np.sign(other[np.argmax(np.abs(other), axis=0), np.arange(24)])
            print(f"L=1024 K=24: numpy (syevd) vs sy{driver}: {np.max(np.linalg.norm(other - phi_k, axis=0)) / top:.2e} of the largest norm")
    except ImportError:
        pass
