"""kernel/power/: power-management notifier chains."""
