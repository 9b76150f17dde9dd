"""The browser: finding and launching Chromium, one session's context and page, the login
handed over from an untraced context, artifacts (screenshots, redacted traces), and the
private work area that holds the browser's working files."""
