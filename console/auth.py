"""Sign-in helpers for django-axes."""

from disputes.views import _client_ip


def client_ip(request):
    """The client address sign-in throttling counts by: the same one the API's rate limits use."""
    return _client_ip(request)
