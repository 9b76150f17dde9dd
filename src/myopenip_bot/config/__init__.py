"""What the bot is told: settings (MYOPENIP_*), the portal's selectors, logging."""
