"""The `myopenip` command: dispatches to the replica (`portal`) and the bot (everything else)."""

__all__: list[str] = []
