"""Diagnostics: gradient checks, gradient flow, Jacobian spectra, unit statistics."""
__all__: list[str] = []
