"""Records and privacy: what Handvest keeps, for how long, and what a citizen may ask about it.

| module | holds |
| --- | --- |
| ``retention`` | a closed case's result type, the ombudsman and other holds (Archiefwet, Selectielijst 2020) |
| ``destruction`` | destruction lists: proposed, reviewed and approved by the archivist, executed case by case |
| ``statement`` | the *verklaring van vernietiging* (PDF) kept with each executed list |
| ``wiping`` | removing a case's personal data while keeping what the figures need |
| ``subject_access`` | finding one person's data and exporting it (AVG art. 15) |
| ``loose_mail`` | mail that never became part of a case, wiped once its own term has passed |
| ``erasure`` | rectification and erasure on request (AVG art. 16, 17), as far as the retention duty allows |
| ``audit`` | the change log (django-auditlog) of cases, messages, letters and tags, personal values hidden |
| ``read_log`` | every read of a case's personal data by staff |

The retention table and the records themselves are models (``cases.models.records``); the design
is in ``docs/adr/005-retention-and-destruction.md``, the register entry in ``docs/verwerkingsregister.md``.
"""
