"""Pages for citizens outside the web form: the private page of their case, and last year's
figures on the charter page."""
