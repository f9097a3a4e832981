"""Spike detection: baselines, count detectors, incident lifecycle."""
