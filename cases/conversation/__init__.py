"""The conversation with the citizen: questions back (*reactie gevraagd*), consent to wait longer
(Awb 9:11 lid 2), satisfaction and reopening, and the ombudsman (Awb 9:18 and on).

Services here lock the case, write the conversation's rows and its letters (through the outbox,
so nothing goes twice) in one transaction; the citizen answers on the private page
(``views``), by e-mail (threaded into the case; ``questions.question_answer_from_email``) or by
letter (recorded by an officer).
"""
