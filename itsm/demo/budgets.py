"""Step `budgets`: a budget for each service of the catalogue for this calendar quarter (EUR, with
lines for licences, personnel and its share of the hosting platform), an allocation rule sharing
the platform's cost among the services by their CI count, and the quarter's actuals so far imported
from a finance CSV (ISO/IEC 20000-1 6.4); each budget's report then shows budget against actual
against forecast.
"""

from __future__ import annotations

from datetime import date, timedelta

from itsm.demo.client import Missing, Refused
from itsm.demo.dataset import SERVICES
from itsm.demo.state import Demo

BUDGETS = "/api/v1/budgets"
RULES = "/api/v1/allocation-rules"
ACTUALS = "/api/v1/cost-actuals"
PERSON = "fay.finance"
COLUMNS = "reference,service_id,allocation_rule,category,amount,currency,incurred_on,description"


def _quarter(today: date) -> tuple[date, date]:
    start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    after = date(start.year + (start.month == 10), (start.month + 2) % 12 + 1, 1)
    return start, after - timedelta(days=1)


async def load_budgets(demo: Demo) -> str:
    api = demo.api
    if not api.has("config", "POST", BUDGETS):
        raise Missing("config has no budgets")
    today = demo.now.date()
    start, end = _quarter(today)
    services = [(plan, demo.loaded.services[plan.name]) for plan in SERVICES if plan.name in demo.loaded.services]
    budgets = 0
    rows: list[str] = []
    for plan, service_id in services:
        gold = plan.tier == "gold"
        lines = [
            {"category": "licence", "amount": "24000.00" if gold else "9000.00"},
            {"category": "personnel", "amount": "60000.00" if gold else "30000.00"},
            {"category": "shared", "amount": "4500.00"},
        ]
        body = {"service_id": service_id, "period_start": start.isoformat(), "period_end": end.isoformat()}
        try:
            await api.call("config", "POST", BUDGETS, person=PERSON, body={**body, "currency": "EUR", "lines": lines})
            budgets += 1
        except Refused as refused:
            if refused.status != 409:  # 409: loaded by an earlier run
                raise
        tag = f"{start:%Y}Q{(start.month + 2) // 3}-{plan.name.lower().replace(' ', '-')}"
        licence = "7950.00" if gold else "2980.00"
        rows.append(f"LIC-{tag},{service_id},,licence,{licence},EUR,{start + timedelta(days=2)},Annual seats")
        for month, payday in enumerate(_paydays(start, today)):
            pay = "19800.00" if gold else "10150.00"
            rows.append(f"PAY-{tag}-{month + 1},{service_id},,personnel,{pay},EUR,{payday},Support team")
    await api.call(
        "config",
        "POST",
        RULES,
        person=PERSON,
        body={"name": "hosting-platform", "basis": "ci_count", "service_ids": [s for _, s in services]},
    )
    hosted = start + timedelta(days=4)
    if hosted <= today:
        tag = f"{start:%Y}Q{(start.month + 2) // 3}"
        rows.append(f"HOST-{tag},,hosting-platform,shared,12000.00,EUR,{hosted},Platform hosting invoice")
    rows = [r for r in rows if date.fromisoformat(r.split(",")[6]) <= today]
    headers = {"Authorization": f"Bearer {api.token(PERSON)}", "Content-Type": "text/csv"}
    r = await api.client.post(f"{api.urls['config']}{ACTUALS}", content="\n".join([COLUMNS, *rows]), headers=headers)
    if r.status_code >= 400:
        raise Refused("POST", ACTUALS, r.status_code, r.text[:300])
    imported = r.json()
    return f"{budgets} budgets, 1 allocation rule, {imported['accepted']} of {imported['rows']} actuals accepted"


def _paydays(start: date, today: date) -> list[date]:
    """The 25th of each month of the quarter up to today."""
    days = [date(start.year, start.month + n, 25) for n in range(3)]
    return [d for d in days if d <= today]
