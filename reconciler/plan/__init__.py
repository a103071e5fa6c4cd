"""Stage 4, planning (pure, no I/O): plan types, field diffs, the planner, staleness and the plan document."""
