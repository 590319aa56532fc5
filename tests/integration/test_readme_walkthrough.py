"""The README's walk-through, pasted as it stands (only the base URL points at the test server)."""

import re
import shutil
import subprocess

import pytest

from tests import stack
from tests.conftest import real_stack

pytestmark = [pytest.mark.integration, pytest.mark.e2e, real_stack]


def walkthrough_script(base_url):
    readme = (stack.ROOT / "README.md").read_text()
    section = readme[readme.index("## A walk-through with curl") : readme.index("## Configuration")]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert len(blocks) >= 6
    script = "set -euo pipefail\n" + "\necho\n".join(blocks)
    assert "export RH=http://127.0.0.1:8000" in script
    return script.replace("export RH=http://127.0.0.1:8000", f"export RH={base_url}")


def test_the_readme_walkthrough_runs_as_pasted(gunicorn, celery_worker, live_reasons):
    assert shutil.which("curl"), "the walk-through needs curl"
    result = subprocess.run(
        ["bash", "-c", walkthrough_script(gunicorn.url)],
        cwd=stack.ROOT,
        env=stack.process_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    # The walk-through's last requests wake the worker: let it finish before teardown truncates.
    stack.wait_worker_idle(celery_worker.process)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    out = result.stdout
    assert '"status":201' in out and '"index":3,"status":400' in out  # the batch
    assert '"decision":' in out and '"review_at":30' in out
    # The retraction of $FLAG (the id captured in step 1): 204, then seller B trying it: 404.
    assert '204\n{"error":{"code":"not_found","message":"No such flag."}}' in out
    assert '"code":"server_error"' not in out
