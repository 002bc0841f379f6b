"""Following a background job from the test client: the answer that asked for it sends the
person to the job's page; the workflows run in-process until idle; then the page and what the
job made are read as the person would."""

from __future__ import annotations

import re

from django.test import Client

from samples.models import Job


def job_followed(client: Client, env, asked) -> tuple[Job, str]:
    """The job an answer (302 to its page) started, done, and its page's HTML."""
    assert asked.status_code == 302, asked.content[:500]
    found = re.fullmatch(r"/jobs/(\d+)/", asked["Location"])
    assert found, asked["Location"]
    env.run_until_idle()
    page = client.get(asked["Location"])
    assert page.status_code == 200
    return Job.objects.get(pk=int(found[1])), page.content.decode()


def job_download(client: Client, job: Job) -> bytes:
    response = client.get(f"/jobs/{job.pk}/file")
    assert response.status_code == 200
    return b"".join(response.streaming_content)
