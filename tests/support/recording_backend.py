"""A mail backend for a real worker under test: every message it accepts is appended to a file
(``HANDVEST_TEST_SENT_LOG``), flushed to the operating system before ``send_messages`` returns,
so a worker killed right after "the provider took it" still leaves the record. A short pause
while sending widens the window in which a kill lands mid-send."""

import os
import time

from django.core.mail.backends.base import BaseEmailBackend


class RecordingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        path = os.environ["HANDVEST_TEST_SENT_LOG"]
        for message in messages:
            time.sleep(float(os.environ.get("HANDVEST_TEST_SEND_SECONDS", "0.02")))
            line = (message.extra_headers.get("Message-ID", "?") + "\n").encode()
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            try:
                os.write(descriptor, line)
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        return len(messages)
