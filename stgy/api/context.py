"""Access to the app's config and services from route code (the only place using current_app)."""

from __future__ import annotations

from quart import current_app

from stgy.config import Config
from stgy.services import Services

SERVICES_KEY = "stgy.services"
CONFIG_KEY = "stgy.config"


def services() -> Services:
    found: Services = current_app.extensions[SERVICES_KEY]
    return found


def config() -> Config:
    found: Config = current_app.extensions[CONFIG_KEY]
    return found
