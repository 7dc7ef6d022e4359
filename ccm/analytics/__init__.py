"""Figures per template, campaign, channel and provider over a date range, counted in SQL."""
