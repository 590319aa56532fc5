"""The Django admin keeps its own look under our Content-Security-Policy."""


class AdminInlineStyles:
    """Let /admin/ pages use inline styles (a few admin and dispute-review templates do); scripts
    stay as strict as everywhere else. Sits after csp's middleware, so it marks the response first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/admin/"):
            response._csp_update = {"style-src": ["'unsafe-inline'"]}
        return response
