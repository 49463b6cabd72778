"""``peerconsult bench``: synthetic networks and the measurements against baselines."""
