"""Read-only smoke checks of every screen and selector: `myopenip smoke`, or pytest.

One definition of the checks (`checks.CHECKS`, walked by `checks.SmokeWalk`), two entry
points: the command (smoke.cli) and a pytest suite (`pytest --pyargs
myopenip_bot.smoke_suite --base-url URL`).
"""

from myopenip_bot.smoke.checks import CHECKS, CheckResult, CheckSpec, SmokeWalk, Status
from myopenip_bot.smoke.run import SmokeResult, run_smoke

__all__ = ["CHECKS", "CheckResult", "CheckSpec", "SmokeResult", "SmokeWalk", "Status", "run_smoke"]
