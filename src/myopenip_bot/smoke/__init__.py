"""Read-only smoke checks of every screen and selector: `myopenip smoke`, or pytest.

One definition of the checks (`checks.CHECKS`, walked by `walk.SmokeWalk`, which
`walk.smoke_walk` makes), two entry points: the command (myopenip.commands.smoke) and a
pytest suite (`pytest --pyargs myopenip_bot.smoke_suite --base-url URL`). Evidence for a
CI (`junit`), and proposals for what drifted, proven by a read-only rerun and never
applied (`propose`).
"""

from myopenip_bot.smoke.checks import CHECKS, CheckResult, CheckSpec, Status
from myopenip_bot.smoke.propose import Change, Proposal, propose
from myopenip_bot.smoke.run import SmokeResult, run_smoke
from myopenip_bot.smoke.walk import SmokeWalk, WalkOptions, smoke_walk

__all__ = [
    "CHECKS",
    "Change",
    "CheckResult",
    "CheckSpec",
    "Proposal",
    "SmokeResult",
    "SmokeWalk",
    "Status",
    "WalkOptions",
    "propose",
    "run_smoke",
    "smoke_walk",
]
