"""Timing on CUDA and under the interpreter, NVML telemetry, the environment fingerprint's inputs."""
