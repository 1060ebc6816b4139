"""Execution plans: resolved restores, actions, diff, saved plan files."""
