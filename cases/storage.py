"""Private file storage: outside MEDIA_ROOT, never served directly; views check permissions first."""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    # Read the setting on every access (not cached at import) so tests and deployments can move it.
    @property
    def base_location(self):
        return settings.PRIVATE_MEDIA_ROOT

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return None

    def url(self, name):
        raise ValueError("Private files have no public URL; serve them through a view that checks permissions.")


private_storage = PrivateStorage()
