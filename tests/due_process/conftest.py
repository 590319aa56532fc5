"""Fixtures for the due-process tests: clean appeal limits, code mails read from the outbox."""

import pytest


@pytest.fixture(autouse=True)
def _due_process(codes_mailed_in_process):
    yield
