"""Letters to citizens: composed from templates, written to the outbox, sent exactly once.

| module | holds |
| --- | --- |
| ``composing`` | the templates of each letter kind filled for a case (the draft an officer edits) |
| ``outbox`` | the one place a letter becomes an outbox row; the acknowledgement; what the relay picks up |
| ``delivery`` | sending a row: e-mail or PDF letter, suppression rules, failures, resending, printing |
| ``pdf`` | the A4 letter |
| ``steps`` | a workflow step and its letter in one transaction |
| ``bounces`` | a bounced letter goes again by post |
| ``digest`` | the daily deadline digest to the quality officers |
"""
