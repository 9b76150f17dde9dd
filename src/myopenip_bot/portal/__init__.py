"""The way around the portal: steps under one retry policy, logins, the path to a service,
and its listings (paging, and what is on screen)."""
