"""The web pages' middleware runs for web pages only.

Sessions, the signed-in user, flash messages, frame and content-security headers and sign-in
throttling (settings.PAGE_MIDDLEWARE) serve the console, the buyer pages and the admin. The JSON
API under /api/v1/ authenticates by key, keeps no session and renders no HTML, and the probes
(/healthz, /readyz, /metrics) are read by machines: for them this chain cost 0.19 ms of CPU per
request, more than validating a decision (docs/benchmarks.md). `PageMiddleware` stands in
settings.MIDDLEWARE for the whole chain and runs it for every other path.

Only middleware that work through `__call__` (process_request / process_response) can be chained
here; Django wires process_view, process_exception and process_template_response itself, so a
middleware with one of those stays in MIDDLEWARE (CSRF does), and one listed here is refused.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

MACHINE_PATHS = ("/api/v1/", "/healthz", "/readyz", "/metrics")
_HANDLER_HOOKS = ("process_view", "process_exception", "process_template_response")


class PageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        chain = get_response
        for path in reversed(settings.PAGE_MIDDLEWARE):
            middleware = import_string(path)
            hooks = [hook for hook in _HANDLER_HOOKS if hasattr(middleware, hook)]
            if hooks:
                raise ImproperlyConfigured(f"{path} has {', '.join(hooks)}: list it in MIDDLEWARE, not PAGE_MIDDLEWARE")
            chain = middleware(chain)
        self.pages = chain

    def __call__(self, request):
        if request.path_info.startswith(MACHINE_PATHS):
            return self.get_response(request)
        return self.pages(request)
