"""Pages anyone may open: the landing page, and the error pages of the web pages."""

from django.shortcuts import render

from riskhub import errors


def landing(request):
    return render(request, "console/landing.html")


def _is_page(request):
    # The API (and anything under it) keeps its JSON error envelope.
    return not request.path.startswith("/api/")


def page_not_found(request, exception=None):
    if _is_page(request):
        return render(request, "console/error.html", {"status": 404}, status=404)
    return errors.handler404(request, exception)


def permission_denied(request, exception=None):
    if _is_page(request):
        return render(request, "console/error.html", {"status": 403}, status=403)
    return errors.handler403(request, exception)
