"""Signal receivers that connect cases to tagging and correspondence; connected in CasesConfig.ready()."""
