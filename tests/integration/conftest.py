"""Fixtures shared by the end-to-end tests."""

import pytest

from tests import stack


@pytest.fixture(scope="session")
def gunicorn(request, django_db_setup):
    """`gunicorn riskhub.wsgi -w 2` on the test database, shared by the e2e modules (each start
    costs seconds), stopped at the end of the session."""
    if not stack.REAL_STACK:
        pytest.skip("needs PostgreSQL + Redis")
    server = stack.start_gunicorn(workers=2)
    request.addfinalizer(server.stop)
    return server
