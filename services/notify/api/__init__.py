"""The notify service's HTTP API, by area (routes are thin: validate, call a use case, answer)."""

from services.notify.api import deliveries, intake, notifications, records_control, subscriptions

ROUTERS = [
    subscriptions.router,
    deliveries.router,
    notifications.router,
    notifications.unsubscribe_router,
    intake.router,
    records_control.router,
]
