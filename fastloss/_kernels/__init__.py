"""Compiled kernels (Cython templates, one module per family and kernel set) and the
CPU dispatcher. Imports nothing of the rest of the package."""
