"""The SWA benchmark suite: case definitions, tiers, and the FLOP/byte model (pure)."""
