"""The issue-9 journeys in a real browser, against gunicorn + a Celery worker.

A seller checks a buyer three other sellers flagged, flags and retracts; the buyer gets a code by
email, sees the flags and contests one; that flag's seller answers in the console; an admin
overturns it in the admin; the buyer's page and the first seller's check show the outcome. A
seller of no part in it never sees any of it.
"""

import time

import pytest
from django.contrib.auth.models import User

from blacklist.models import Flag
from blacklist.services.flags import flag_submit
from tests import stack
from tests.browser.conftest import PASSWORD, code_from_mail, seller_with_user
from tests.conftest import ids, real_stack

try:
    from playwright.sync_api import expect
except ImportError:  # then the `browser` fixture skips these tests (or fails them on CI)
    expect = None

pytestmark = [pytest.mark.integration, pytest.mark.e2e, real_stack]

JANE = "jane.doe@example.com"
EXTORTION = "Malicious threats or extortion"
REFUNDS = "Frequent returns or refund requests without valid cause"


def check(actor, email, until, timeout=60):
    """Check a buyer until the card says `until` (the worker scores in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        actor.goto("/console/")
        actor.page.get_by_label("Email", exact=True).fill(email)
        actor.page.get_by_role("button", name="Check", exact=True).click()
        card = actor.page.locator("#decision")
        text = card.inner_text()
        if until in text:
            return card
        if time.monotonic() > deadline:
            raise AssertionError(f"the card never said {until!r}:\n{text}")
        time.sleep(0.5)


def reason_rows(card):
    return {
        row.locator(".reason-label").inner_text(): row.locator(".reason-count").inner_text()
        for row in card.locator(".reason").all()
    }


def test_seller_buyer_and_admin_journeys(web, actors, celery_worker, live_reasons):
    seller_with_user("Shop Alpha", "anna@shop-a.test")
    shop_b = seller_with_user("Shop Beta", "ben@shop-b.test")
    shop_c = seller_with_user("Shop Gamma", "cleo@shop-c.test")
    shop_d = seller_with_user("Shop Delta", "dan@shop-d.test")
    flag_submit(seller=shop_b, identifiers=ids(email=JANE), reason="extortion", order_ref="B-1")
    flag_submit(seller=shop_c, identifiers=ids(email=JANE), reason="extortion", order_ref="C-1")
    flag_submit(seller=shop_d, identifiers=ids(email=JANE), reason="refund_abuse", order_ref="D-1")
    flag_submit(seller=shop_d, identifiers=ids(email="someone.else@example.com"), reason="other", order_ref="D-2")
    urls = []

    # --- seller A: sign in, check the buyer, flag, retract ----------------------------------
    anna = actors("anna")
    anna.page.on("request", lambda request: urls.append(request.url))
    anna.goto("/")
    anna.shoot("landing")
    anna.goto("/console/sign-in/")
    anna.shoot("sign-in")
    anna.sign_in("anna@shop-a.test")
    card = check(anna, JANE, "Flagged by 3 sellers")
    assert reason_rows(card) == {EXTORTION: "[2]", REFUNDS: "[1]"}
    assert "Review" in card.locator("h2").inner_text(), "one seller per reason; no own flag yet"
    for name in ("Shop Beta", "Shop Gamma", "Shop Delta", "B-1", "C-1", "D-1"):
        assert name not in anna.page.content()
    anna.shoot("check")

    anna.page.get_by_role("button", name="Flag this buyer").click()
    assert anna.page.get_by_label("Email", exact=True).input_value() == JANE
    anna.page.get_by_label("Reason").select_option("refund_abuse")
    anna.page.get_by_label("Your order reference").fill("A-1001")
    anna.shoot("flag")
    anna.page.get_by_role("button", name="Flag", exact=True).click()
    anna.page.wait_for_url("**/console/flags/")
    expect(anna.page.locator(".messages")).to_contain_text("Flag recorded for order A-1001.")
    row = anna.page.locator("tbody tr", has_text="A-1001")
    expect(row).to_contain_text("active")
    anna.shoot("flags")
    own = check(anna, JANE, "Your own tags:")
    expect(own).to_contain_text("A-1001")

    anna.goto("/console/flags/")
    anna.page.locator("tbody tr", has_text="A-1001").get_by_role("link", name="Retract…").click()
    anna.shoot("retract")
    anna.page.get_by_label("Yes, retract this flag").check()
    anna.page.get_by_role("button", name="Retract", exact=True).click()
    anna.page.wait_for_url("**/console/flags/")
    expect(anna.page.locator("tbody tr", has_text="A-1001")).to_contain_text("retracted")
    retracted = Flag.objects.get(order_ref="A-1001")

    # --- the buyer: a code by email, the flags, an appeal -------------------------------------
    jane = actors("jane", javascript=False)  # the buyer's page works without JavaScript
    jane.page.on("request", lambda request: urls.append(request.url))
    jane.goto("/buyer/")
    jane.shoot("buyer-start")
    asked_at = time.time() - 1
    jane.page.get_by_label("Your email address").fill(JANE)
    jane.page.get_by_role("button", name="Email me a code").click()
    jane.page.get_by_role("heading", name="Check your email").wait_for()
    jane.shoot("buyer-code")
    jane.page.get_by_label("The code from the email").fill(code_from_mail(web.mail_dir, asked_at))
    jane.page.get_by_role("button", name="Show what is held about me").click()
    jane.page.wait_for_url("**/buyer/flags/")
    reports = jane.page.locator("li.flag")
    assert reports.count() == 4
    b_report = reports.filter(has_text="B-1")
    expect(b_report).to_contain_text(EXTORTION)
    expect(reports.filter(has_text="A-1001")).to_contain_text("Withdrawn by the shop")
    for name in ("Shop Alpha", "Shop Beta", "Shop Gamma", "Shop Delta"):
        assert name not in jane.page.content()
    jane.shoot("buyer-flags")
    b_report.get_by_role("link", name="Contest this report").click()
    jane.page.get_by_label("Your statement").fill("I never threatened anyone; the shop cancelled my order.")
    jane.shoot("buyer-contest")
    jane.page.get_by_role("button", name="Send my appeal").click()
    jane.page.wait_for_url("**/buyer/flags/")
    expect(jane.page.locator(".messages")).to_contain_text("Your appeal was received")
    expect(jane.page.locator("li.flag", has_text="B-1")).to_contain_text("You contested it.")

    # --- seller B answers in the console ------------------------------------------------------
    ben = actors("ben")
    ben.sign_in("ben@shop-b.test")
    ben.page.get_by_role("link", name="Disputes", exact=True).click()
    ben.shoot("disputes")
    ben.page.locator("tbody tr", has_text="B-1").get_by_role("link", name="Read and answer").click()
    expect(ben.page.locator("blockquote.statement")).to_contain_text("the shop cancelled my order")
    ben.page.get_by_label("Your answer").fill("The buyer wrote threatening messages; screenshots attached.")
    ben.page.get_by_label("Evidence (optional)").fill("https://files.example/screenshot-1.png")
    ben.shoot("dispute")
    ben.page.get_by_role("button", name="Send my answer").click()
    expect(ben.page.locator(".messages")).to_contain_text("Your answer was recorded")

    # --- an admin overturns it in the admin ---------------------------------------------------
    User.objects.create_superuser("reviewer", "reviewer@riskhub.test", PASSWORD)
    admin = actors("admin")
    admin.goto("/admin/login/")
    admin.page.locator("#id_username").fill("reviewer")
    admin.page.locator("#id_password").fill(PASSWORD)
    admin.page.get_by_role("button", name="Log in").click()
    admin.goto("/admin/disputes/dispute/")
    admin.shoot("admin-disputes")
    admin.page.locator("#result_list tbody tr th a").first.click()
    expect(admin.page.locator(".seller-response")).to_contain_text("screenshots attached")
    admin.page.locator("#id_review_note").fill("No threats in the messages the seller sent.")
    admin.page.get_by_role("button", name="Overturn (the flag stops counting)").click()
    expect(admin.page.locator(".messagelist")).to_contain_text("overturned")
    admin.page.on("request", lambda request: urls.append(request.url))
    admin.goto("/admin/blacklist/flag/")
    admin.page.locator("#searchbar").fill(JANE.upper())
    admin.page.get_by_role("button", name="Search").click()
    admin.page.wait_for_url("**identifiers__in=**")
    assert admin.page.locator("#result_list tbody tr").count() == 4, "Jane's four flags, not D-2"
    assert "D-2" not in admin.page.inner_text("#result_list")
    admin.shoot("admin-flags")

    # --- the outcome, on both sides ------------------------------------------------------------
    jane.goto("/buyer/flags/")
    expect(jane.page.locator("li.flag", has_text="B-1")).to_contain_text("Overturned after review.")
    jane.shoot("buyer-outcome")
    card = check(anna, JANE, "Flagged by 2 sellers")
    assert reason_rows(card) == {EXTORTION: "[1]", REFUNDS: "[1]"}

    # --- nothing of it showed in a URL or the access log; the pages kept to our CSP ------------
    lowered = [url.lower() for url in urls]
    assert not [url for url in lowered if "jane" in url or "%40example" in url]
    assert "jane" not in web.log_path.read_text(errors="replace").lower()
    assert anna.csp_violations == [] and jane.csp_violations == [] and ben.csp_violations == []

    # --- a seller of no part in it sees none of it ---------------------------------------------
    seller_with_user("Shop Omega", "olga@shop-o.test")
    olga = actors("olga")
    olga.sign_in("olga@shop-o.test")
    olga.goto("/console/flags/")
    expect(olga.page.locator("main")).to_contain_text("No flags match.")
    olga.goto("/console/disputes/")
    expect(olga.page.locator("main")).to_contain_text("No disputes.")
    assert olga.goto(f"/console/flags/{retracted.pk}/retract/").status == 404
    card = check(olga, JANE, "Flagged by 2 sellers")
    for secret in ("Shop Alpha", "Shop Beta", "Shop Gamma", "Shop Delta", "A-1001", "B-1", "C-1", "D-1"):
        assert secret not in olga.page.content()
    # No task may still be writing when the test's tables are emptied.
    stack.wait_worker_idle(celery_worker.process)


def test_settings_pages_in_the_browser(web, actors, live_reasons):
    seller_with_user("Shop Kappa", "kim@shop-k.test")
    kim = actors("kim")
    kim.sign_in("kim@shop-k.test")

    kim.page.get_by_role("link", name="Policy").click()
    kim.page.get_by_label("Review from score").fill("60")
    kim.page.get_by_label("Do not ship from score").fill("50")
    kim.page.get_by_role("button", name="Save policy").click()
    expect(kim.page.locator("main")).to_contain_text("Must not be above no_ship_at.")
    kim.page.get_by_label("Review from score").fill("30")
    kim.page.get_by_label("Other", exact=True).select_option("ignore")
    kim.page.get_by_role("button", name="Save policy").click()
    expect(kim.page.locator(".messages")).to_contain_text("Policy saved.")
    kim.shoot("policy")

    kim.page.get_by_role("link", name="API keys").click()
    kim.page.get_by_label("Name").fill("shop system")
    kim.page.get_by_role("button", name="Create a key").click()
    raw = kim.page.inner_text("#new-key")
    assert raw.startswith("rh_")
    kim.shoot("keys")
    kim.page.locator("tbody tr", has_text="shop system").get_by_role("link", name="Revoke…").click()
    kim.page.get_by_label("Yes, I am sure").check()
    kim.page.get_by_role("button", name="Revoke", exact=True).click()
    expect(kim.page.locator("tbody tr", has_text="shop system")).to_contain_text("revoked")

    kim.page.get_by_role("link", name="Members").click()
    kim.page.get_by_label("Email").fill("clerk@shop-k.test")
    kim.page.get_by_role("button", name="Invite").click()
    expect(kim.page.locator("tbody")).to_contain_text("clerk@shop-k.test")
    kim.shoot("members")
    assert kim.csp_violations == []


UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]):not([type=submit]), select, textarea')]
    .filter(el => el.labels.length === 0 && !el.getAttribute('aria-label')).map(el => el.name)"""


def test_every_page_is_labelled_keyboard_first_and_fits_a_phone(web, actors, live_reasons):
    seller_with_user("Shop Lambda", "lea@shop-l.test")
    lea = actors("lea")
    lea.page.set_viewport_size({"width": 400, "height": 800})
    pages = ["/", "/buyer/", "/console/password-reset/", "/console/sign-in/"]
    for path in pages:
        lea.goto(path)
        assert lea.page.evaluate(UNLABELLED) == [], path
        assert lea.page.evaluate("document.documentElement.scrollWidth") <= 400, f"{path} scrolls sideways"
    lea.sign_in("lea@shop-l.test")
    lea.page.get_by_label("Email", exact=True).fill("someone@example.com")
    lea.page.get_by_role("button", name="Check", exact=True).click()
    lea.page.locator("#decision").wait_for()
    for path in [None, "/console/flag/", "/console/flags/", "/console/disputes/", "/console/policy/", "/console/keys/"]:
        if path:
            lea.goto(path)
        assert lea.page.evaluate(UNLABELLED) == [], path
        assert lea.page.evaluate("document.documentElement.scrollWidth") <= 400, f"{path} scrolls sideways"
        lea.page.keyboard.press("Tab")
        assert lea.page.evaluate("document.activeElement.className") == "skip", "the skip link comes first"
    assert lea.csp_violations == []
