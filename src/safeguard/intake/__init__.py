"""Intake: escalation channels, their schema, and idempotent, durable acceptance."""
