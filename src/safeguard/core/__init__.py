"""Mechanisms that belong to no domain, at the bottom of the layers: the hook registry, the one
way to enqueue a task, signed webhooks and their retries, and the domain error classes."""
