"""The smoke checks as a pytest suite, for QA's own CI, with pytest-playwright's options:

    MYOPENIP_USERNAME=… MYOPENIP_PASSWORD=… pytest --pyargs myopenip_bot.smoke_suite \\
        --base-url https://my.portal --headed --tracing retain-on-failure --output DIR

The same checks as `myopenip smoke` (myopenip_bot.smoke.checks), one test per check.
"""
