"""perfci: regression-tracking CI for sliding-window-attention GPU kernels."""

__version__ = "0.1.0"
