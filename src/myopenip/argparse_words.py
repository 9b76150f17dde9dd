"""argparse's own words (Python 3.11 to 3.13), marked for the bot's catalog: argparse
looks them up through gettext, and myopenip.i18n.install() points it at the bot's
catalog. Never imported: `pybabel extract` reads this file (a test checks that every word
the running Python's argparse asks for is here)."""

from myopenip_bot.i18n import N_, ngettext

WORDS = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("unrecognized arguments: %s"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("unknown parser %(parser_name)r (choices: %(choices)s)"),
    N_("the following arguments are required: %s"),
    N_("one of the arguments %s is required"),
    N_("not allowed with argument %s"),
    N_("ignored explicit argument %r"),
    N_("can't open '%(filename)s': %(error)s"),
    N_("unexpected option string: %s"),
    N_('argument "-" with mode %r'),
    N_("%r is not callable"),
    N_(".__call__() not defined"),
    N_("'required' is an invalid argument for positionals"),
    N_("mutually exclusive arguments must be optional"),
    N_("cannot merge actions - two groups are named %r"),
    N_("invalid option string %(option)r: must start with a character %(prefix_chars)r"),
    N_("dest= is required for options like %r"),
    N_("invalid conflict_resolution value: %r"),
    N_("cannot have multiple subparser arguments"),
    N_("conflicting subparser: %s"),
    N_("conflicting subparser alias: %s"),
)


def _plurals(n: int) -> tuple[str, ...]:
    return (
        ngettext("expected %s argument", "expected %s arguments", n),
        ngettext("conflicting option string: %s", "conflicting option strings: %s", n),
    )
