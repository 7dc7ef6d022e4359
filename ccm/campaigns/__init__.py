"""Campaigns: a published template to a segment of customers, fanned out in checkpointed batches."""
