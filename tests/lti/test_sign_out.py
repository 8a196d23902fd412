"""An LMS launch's session ends with "Sign out" too (issue 15, item 4)."""

from __future__ import annotations

import re

from tests.support.lti_platform import Person

ADA = Person("user-1", "Ada", "Lovelace", "ada@example.edu", sourcedid="M-001")
_FORM_TOKEN = re.compile(r'<form class="sign-out" method="post" action="/sign-out">\s*'
                         r'<input type="hidden" name="csrf_token" value="([^"]+)">')  # fmt: skip


def test_sign_out_after_a_launch_ends_tandems_session(app, client, platform) -> None:
    assert platform.launch(client, ADA).status_code == 303
    page = client.get("/me").get_data(as_text=True)
    # Inside the LMS frame: no target, so the LMS page around Tandem stays.
    found = _FORM_TOKEN.search(page)
    assert found, "no Sign out button on the member page"
    response = client.post("/sign-out", data={"csrf_token": found.group(1)})
    assert response.status_code == 303 and response.location == "/sign-out"
    assert client.get("/me").status_code == 401
    assert "You are signed out of Tandem" in client.get("/sign-out").get_data(as_text=True)
