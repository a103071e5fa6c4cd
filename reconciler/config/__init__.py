"""Loading and validating meter configuration files (YAML) into desired meters."""
