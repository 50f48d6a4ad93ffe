"""Views of the officers', mailroom's and editors' workspace inside the Wagtail admin."""
