"""Marketing: segments, email campaigns, automations, experiments, attribution."""
