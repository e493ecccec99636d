"""kernel/sched: the scheduler (core.py), wait queues (wait.py), completions (completion.py)."""
