"""Environment-only configuration: every setting a deployment needs comes from the environment,
with its type, and docs/deploy.md lists each variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import ENV_KEYS, load_settings

DEPLOY = Path(__file__).resolve().parents[1] / "docs" / "deploy.md"
NEEDED = ("SQLALCHEMY_DATABASE_URI", "REDIS_URL", "SECRET_KEY", "CRM_SMTP_HOST", "CRM_SMTP_PORT", "CRM_SMTP_TLS",
          "CRM_SMTP_USER", "CRM_SMTP_PASSWORD", "CRM_MAIL_FROM", "CRM_BASE_URL", "CRM_TRUSTED_PROXIES",
          "CRM_FILES_DIR", "CRM_SCHEMA_MODE", "CRM_METRICS_TOKEN", "CRM_METRICS_ALLOW")


def test_every_deployment_setting_comes_from_the_environment_and_is_documented() -> None:
    assert set(NEEDED) <= set(ENV_KEYS)
    text = DEPLOY.read_text(encoding="utf-8")
    missing = [key for key in ENV_KEYS if f"`{key}`" not in text and key != "CRM_CONFIG"]
    assert not missing, f"not in docs/deploy.md: {missing}"


def test_environment_values_are_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_SMTP_TLS", "true")
    monkeypatch.setenv("CRM_TRUSTED_PROXIES", "2")
    monkeypatch.setenv("CRM_HEALTH_MIN_WORKERS", "1")
    monkeypatch.setenv("CRM_BASE_URL", "https://crm.example.com")
    monkeypatch.setenv("CRM_METRICS_TOKEN", "t0ken")
    settings = load_settings()
    assert settings["CRM_SMTP_TLS"] is True and settings["CRM_TRUSTED_PROXIES"] == 2
    assert settings["CRM_HEALTH_MIN_WORKERS"] == 1 and settings["CRM_METRICS_TOKEN"] == "t0ken"
    assert settings["PREFERRED_URL_SCHEME"] == "https"
    monkeypatch.setenv("CRM_SMTP_TLS", "off")
    assert load_settings()["CRM_SMTP_TLS"] is False
