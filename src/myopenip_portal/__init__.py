"""A faithful local replica of the MyOpenIP customer portal (never imported by the bot)."""

__all__: list[str] = []
