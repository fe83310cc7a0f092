"""Triage: CEL policy rules turn an escalation into a priority, deadlines, queue and reason."""
