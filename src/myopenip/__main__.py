"""`python -m myopenip` runs the same command as the `myopenip` script."""

from myopenip.cli import main

raise SystemExit(main())
