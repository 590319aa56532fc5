"""Shared admin pieces."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """A model shown in the admin but never added, changed or deleted there (changes go through
    services, or nowhere at all for append-only records)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
