"""The MyOpenIP dissociation bot: drives the portal's web UI like a person, with guards."""

__all__: list[str] = []
