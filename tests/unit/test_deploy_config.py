"""Deployment files agree with the settings: Compose passes everything through, the docs list it."""

import re

import yaml

from tests.stack import ROOT

APP_SERVICES = ("migrate", "web", "worker", "beat")


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def settings_variables():
    text = (ROOT / "riskhub" / "settings.py").read_text()
    names = set(re.findall(r'env_(?:str|bool|int|list|rate)\("([A-Z_]+)"', text))
    names |= set(re.findall(r'_secret\("([A-Z_]+)"\)', text))
    assert {"SECRET_KEY", "IDENTIFIER_KEY", "TRUSTED_PROXIES", "SECURE_PROXY_SSL_HEADER"} <= names
    return names


def test_every_app_service_gets_the_whole_env_file():
    services = compose()
    for name in APP_SERVICES:
        assert services[name]["env_file"] == ".env", name


def test_beat_has_a_healthcheck():
    check = compose()["beat"]["healthcheck"]
    assert "celerybeat-schedule" in " ".join(check["test"])
    assert check["interval"] and check["retries"]


def test_the_web_port_is_published_on_the_loopback_interface_by_default():
    (port,) = compose()["web"]["ports"]
    host, _, _ = port.rpartition(":")
    default_bind = re.match(r"\$\{RISKHUB_BIND:-([^}]+)\}:", host)
    assert default_bind and default_bind.group(1) == "127.0.0.1", port


def test_every_setting_is_documented_in_the_readme_and_the_env_example():
    readme = (ROOT / "README.md").read_text()
    example = (ROOT / ".env.example").read_text()
    for name in sorted(settings_variables()):
        assert f"`{name}`" in readme, f"{name} is missing from the README's configuration table"
        assert re.search(rf"^#? ?{name}=", example, re.M), f"{name} is missing from .env.example"
