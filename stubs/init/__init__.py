"""init/."""
