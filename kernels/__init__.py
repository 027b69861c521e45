"""Triton kernels tracked by perfci. Independent of perfci: lift this package into a serving stack."""
