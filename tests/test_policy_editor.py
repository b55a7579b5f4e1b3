"""The policy editor: compliance officers publish versions in the browser; nobody else may."""
import html
import re

import pytest
from django.conf import settings

from appliance.audit.models import LedgerEntry
from guardrails.models import PolicyVersion
from guardrails.publishing import current_policy, current_policy_version

pytestmark = [pytest.mark.django_db, pytest.mark.services]


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


def submitted_form(client, **changes) -> dict:
    """The editor's form as the page fills it in, with CHANGES typed over it."""
    page = client.get("/compliance/policy/").content.decode()
    data = {}
    for name, value in re.findall(r'<input type="(?:text|number|hidden)" name="(\w+)" value="([^"]*)"', page):
        data[name] = value
    for name, body in re.findall(r'<textarea name="(\w+)"[^>]*>\n?(.*?)</textarea>', page, re.S):
        data[name] = body
    for name, options in re.findall(r'<select name="(\w+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        data[name] = chosen.group(1) if chosen else ""
    data.pop("csrfmiddlewaretoken", None)
    return {**data, "change_note": "Tightened for the audit", **changes}


def test_it_shows_the_current_version_to_an_officer(officer_client):
    current_policy_version()

    page = officer_client.get("/compliance/policy/").content.decode()

    assert "Question policy <span class=\"badge\">v1</span>" in page
    assert "Publish as v2" in page
    assert '<option value="block" selected>block</option>' in page


def test_it_names_each_type_of_personal_data_in_words_with_its_code_beside(officer_client):
    current_policy_version()

    page = officer_client.get("/compliance/policy/").content.decode()

    rows = re.findall(r'<tr><td>([^<]*) <span class="muted code">([A-Z_]+)</span></td>', page)
    assert ("Nationality, religion or political group", "NRP") in [(html.unescape(words), code) for words, code in rows]
    assert ("Belgian national register number", "BE_NATIONAL_NUMBER") in [(html.unescape(w), c) for w, c in rows]
    assert ("US taxpayer identification number", "US_ITIN") in [(html.unescape(w), c) for w, c in rows]
    assert "<code>NRP</code>" not in page and "<td><code>" not in page
    # In the order an officer reads them: by their words.
    assert [html.unescape(words) for words, _ in rows] == sorted((html.unescape(words) for words, _ in rows), key=str.casefold)


def test_the_policy_table_gives_each_action_select_room_for_its_words(officer_client):
    current_policy_version()

    page = officer_client.get("/compliance/policy/").content.decode()

    assert re.search(r'<td class="entity-action"><select name="action_PERSON"', page)
    css = (settings.BASE_DIR / "static" / "css" / "app.css").read_text()
    assert ".policy-entities td.entity-action select { width: auto; min-width: 100%; }" in css


def test_it_says_what_report_only_does_and_what_the_replay_leaves_out(officer_client):
    current_policy_version()

    page = html.unescape(officer_client.get("/compliance/policy/").content.decode())

    assert "“report only” records the finding for officers in the question's trace and changes nothing else: " \
           "the question is still answered." in page
    # The near-miss band in numbers, for the similarity in force (0.75 by default).
    assert ("Similarity to a topic's example from which a question is blocked. At 0.75, a question from 0.675 up to "
            "0.75 is only reported: recorded for officers in its trace, and still answered.") in page
    assert "never kept" not in page
    assert ("Screens the last questions analysts asked, blocked ones included (each is sealed in its trace in the "
            "audit ledger)") in page


def test_it_publishes_a_new_version_from_the_form(officer_client):
    current_policy_version()
    data = submitted_form(
        officer_client, action_PERSON="block", min_score_PERSON="0.7", max_question_chars="1200",
        denied_topics="Mergers: Which companies are we about to acquire?\nMergers: Is a takeover of Acme planned?",
        patterns="Employee number | sensitive | EMP-\\d{6}",
    )

    unconfirmed = officer_client.post("/compliance/policy/", data)
    # Not replayed: the officer is told so and confirms before anything is published.
    assert unconfirmed.status_code == 200 and PolicyVersion.objects.count() == 1
    page = html.unescape(unconfirmed.content.decode())
    assert "There is no replay of this draft: you have not replayed stored questions under it." in page
    assert "Publish v2 without a replay of this draft" in page

    response = officer_client.post("/compliance/policy/", {**data, "publish_unreplayed": "1"})

    assert response.status_code == 302
    policy = current_policy()
    assert policy.version == 2
    assert (policy.entity_actions["PERSON"], policy.entity_min_scores["PERSON"]) == ("block", 0.7)
    assert policy.max_question_chars == 1200
    assert [(t.name, len(t.examples)) for t in policy.denied_topics] == [("Mergers", 2)]
    assert [(p.name, p.action, p.regex) for p in policy.patterns] == [("Employee number", "sensitive", "EMP-\\d{6}")]
    assert PolicyVersion.objects.get(number=1).rules["entity_actions"]["PERSON"] == "sensitive"  # unchanged
    assert LedgerEntry.objects.filter(action="policy.published", actor_name="charlie").count() == 1
    assert "Published policy v2." in officer_client.get("/compliance/policy/").content.decode()


def test_it_lets_an_officer_choose_which_personal_data_raises_a_documents_label(officer_client):
    current_policy_version()
    page = officer_client.get("/compliance/policy/").content.decode()
    assert "A document containing it is labelled at least" in page
    assert '<option value="public" selected>does not raise it</option>' in page

    response = officer_client.post("/compliance/policy/", submitted_form(
        officer_client, label_LOCATION="internal", label_EMAIL_ADDRESS="restricted", publish_unreplayed="1"))

    assert response.status_code == 302
    policy = current_policy()
    assert (policy.label_for_entity("LOCATION"), policy.label_for_entity("EMAIL_ADDRESS")) == ("internal", "restricted")
    assert policy.label_for_entity("DATE_TIME") == "public"
    event = LedgerEntry.objects.filter(action="policy.published").last()
    assert "entity_labels" in event.details["changed"]
    shown = officer_client.get("/compliance/policy/versions/2/").content.decode()
    assert '<tr><td>Place <span class="muted code">LOCATION</span></td><td>internal</td></tr>' in shown


@pytest.mark.parametrize(("changes", "error"), [
    ({"patterns": "Case number | block | CASE-(\\d+"}, "The regex of pattern &#x27;Case number&#x27; does not compile"),
    ({"patterns": "just a regex"}, "Line 1: write “Name | block or sensitive | regular expression”."),
    ({"denied_topics": "Mergers: fine\nno colon here"}, "Line 2: write “Topic name: example question”."),
    ({"pii_min_score": "2"}, "Ensure this value is less than or equal to 1."),
    ({"change_note": ""}, "This field is required."),
])
def test_it_explains_what_is_wrong_and_publishes_nothing(officer_client, changes, error):
    current_policy_version()

    response = officer_client.post("/compliance/policy/", submitted_form(officer_client, **changes))

    assert response.status_code == 200
    assert error in response.content.decode()
    assert PolicyVersion.objects.count() == 1


def test_it_refuses_to_publish_over_a_version_it_did_not_show(officer_client, officer):
    from guardrails.policy import DEFAULT_RULES
    from guardrails.publishing import publish_policy

    data = submitted_form(officer_client, max_question_chars="900")
    publish_policy(DEFAULT_RULES, "Meanwhile, another officer", officer)

    response = officer_client.post("/compliance/policy/", data, follow=True)

    assert "Policy v2 was published while you were editing." in response.content.decode()
    assert current_policy().max_question_chars == DEFAULT_RULES["max_question_chars"]


def test_it_shows_a_past_version_read_only(officer_client, officer):
    current_policy_version()

    page = officer_client.get("/compliance/policy/versions/1/").content.decode()

    assert "Question policy v1" in page
    assert "This version cannot be changed." in page
    # The threshold in the editor's words, and entity types in the order of their names.
    assert ("Denied-topic similarity: 0.75. Similarity to a topic's example from which a question is blocked. At 0.75, "
            "a question from 0.675 up to 0.75 is only reported") in html.unescape(page)
    names = re.findall(r'<tr><td>([^<]+) <span class="muted code">\w+</span></td><td>(?:block|sensitive)', page)
    assert len(names) > 5 and names == sorted(names, key=str.lower)
    assert "Published without a replay" in page
    assert "<form" not in page.split("<main", 1)[-1].split("</main>")[0].replace('action="/logout/"', "")


@pytest.mark.parametrize("person", ["analyst", "admin", "outsider"])
@pytest.mark.parametrize("url", ["/compliance/policy/", "/compliance/policy/versions/1/"])
def test_only_compliance_officers_may_see_or_edit_the_policy(client, request, person, url):
    current_policy_version()
    client.force_login(request.getfixturevalue(person))

    assert client.get(url).status_code == 403
    assert client.post("/compliance/policy/", {"change_note": "x"}).status_code == 403
    assert PolicyVersion.objects.count() == 1


def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.get("/compliance/policy/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
