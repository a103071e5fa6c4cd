"""Stage 3, Polar: the HTTP client, retries, pacing, servers and targets, identity."""
