"""Offline market simulator: virtual clock, price models, agents, reports."""
