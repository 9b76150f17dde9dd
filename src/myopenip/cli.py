"""Entry point of `myopenip`: `portal` runs the replica, the other commands run the bot."""

from __future__ import annotations

import sys
from collections.abc import Sequence

_USAGE = """usage: myopenip {portal,dissociate,demo} ...

  portal      serve the local MyOpenIP replica until stopped
  dissociate  dissociate numbers from licences, as the user guide shows
  demo        serve the replica on a free port and run the bot against it

`myopenip COMMAND --help` tells more.
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        sys.stdout.write(_USAGE)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "portal":
        from myopenip_portal.cli import main as portal_main

        return portal_main(rest)
    if command == "demo":
        from myopenip.demo import main as demo_main

        return demo_main(rest)
    from myopenip_bot.cli import main as bot_main

    return bot_main(args)
