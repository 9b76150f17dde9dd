"""The hostile texts every test here feeds the bot (imported by name: tests/hostile is on
sys.path): markup for each output, formulas, control, bidi and unencodable characters,
and a text longer than any screen."""

from __future__ import annotations

SCRIPT = "<script>document.title='XSS'</script><img src=x onerror=alert(1)>"
RICH = "Normandie [bold red]PWNED[/] [link=http://evil]x[/link] [/nope] Logistique"
ESCAPES = "\x1b]0;PWNED\x07\x1b[31mred\x1b[0m"
BIDI = "abc\u202edcba"
UNENCODABLE = "a\ufffeb\uffffc"
LONG = "L" * 10_000
FORMULAS = ('=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)")

# Each hostile value, as `text.visible` shows it: what outputs must say instead.
SHOWN = {
    ESCAPES: "\\x1b]0;PWNED\\x07\\x1b[31mred\\x1b[0m",
    BIDI: "abcU+202Edcba",
    UNENCODABLE: "aU+FFFEbU+FFFFc",
}
