"""The README's plan of an archive that a product holds is what polar-meters prints."""

from __future__ import annotations

import re
from pathlib import Path

from reconciler.model import TAG_KEY
from tests.conftest import RunningEmulator
from tests.support.e2e import ROOT, Api, copy_examples
from tests.support.inproc import invoke

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PROMPT = "$ polar-meters --server local plan examples/meters/   # storage-gb archived\n"
EDIT = "    metadata: {team: infra, cost_center: 4400, sla_hours: 24}\n"


def test_the_readme_refused_ahead_archive_is_real(emu: RunningEmulator, tmp_path: Path) -> None:
    meters = copy_examples(tmp_path)
    api = Api(emu)
    assert invoke("apply", "--auto-approve", str(meters), env=api.env).code == 0
    storage = next(m for m in api.meters() if m["metadata"][TAG_KEY] == "storage-gb")
    product = api.http.post("/v1/products/", json={
        "name": "Storage plan", "recurring_interval": "month", "prices": [
            {"amount_type": "metered_unit", "meter_id": storage["id"], "unit_amount": "25"}]})
    assert product.status_code == 201, product.text
    path = meters / "storage.yaml"
    assert path.read_text().count(EDIT) == 1
    path.write_text(path.read_text().replace(EDIT, EDIT + "    archived: true\n"))
    run = invoke("plan", str(meters), env=api.env)
    assert run.code == 0, run.text
    shown = (ROOT / "README.md").read_text().split(PROMPT, 1)[1].split("```", 1)[0]
    documented, actual = shown.splitlines(), run.out.splitlines()
    assert documented[0].startswith("Polar: local · organization ")
    assert actual[0].startswith(f"Polar: {emu.url} · organization ")
    assert [UUID.sub("<id>", line) for line in documented[1:]] == [
        UUID.sub("<id>", line) for line in actual[1:]]
    assert any("! refused ahead" in line for line in actual)
