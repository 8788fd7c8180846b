"""The admin's branding; each app registers its own models in its ``admin.py``."""

from django.contrib import admin

admin.site.site_header = "Costline administration"
admin.site.site_title = "Costline admin"
admin.site.index_title = "Organizations, cost data, segments and metering"
admin.site.site_url = "/"
