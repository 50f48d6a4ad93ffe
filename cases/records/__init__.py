"""Records: retention and destruction, citizens' rights, the audit trail and the read log."""
