"""`python -m myopenip_portal ARGS` is `myopenip portal ARGS`."""

import sys

from myopenip_portal.cli import main

raise SystemExit(main(sys.argv[1:]))
