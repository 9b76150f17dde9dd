"""make bench: the bot measured against floors that pay nothing of its own (bench/README.md)."""
