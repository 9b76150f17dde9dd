"""The dissociation: plan, confirm, submit, verify, chained by the runner."""
