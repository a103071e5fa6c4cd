"""Stage 5b: carrying out a plan against Polar."""
