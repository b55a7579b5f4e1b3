"""What a policy change does, in plain words: each kind of change gives its sentence, the editor
shows the draft's changes above the publish button, and each version page shows what changed from
the version before it."""
import copy
import html
import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from guardrails.policy import DEFAULT_RULES, Policy
from guardrails.policy_changes import changes_between
from guardrails.publishing import current_policy_version, publish_policy
from tests.conftest import ARTIFACTS
from tests.test_browser_home import browser, sign_in  # noqa: F401  (browser is a fixture)
from tests.test_policy_editor import submitted_form as page_form


def changes(**edits) -> list[str]:
    """The sentences for the shipped default edited by EDITS (a function of the rules, or rules fields)."""
    rules = copy.deepcopy(DEFAULT_RULES)
    for field, value in edits.items():
        if callable(value):
            value(rules[field])
        else:
            rules[field] = value
    return [f"{c.what} {c.consequence}" for c in changes_between(Policy.from_rules(DEFAULT_RULES), Policy.from_rules(rules))]


def test_identical_policies_give_no_changes():
    assert changes_between(Policy.from_rules(DEFAULT_RULES), Policy.from_rules(DEFAULT_RULES, version=7)) == []


def test_it_says_what_an_entity_action_change_does_to_questions():
    [sentence] = changes(entity_actions=lambda actions: actions.pop("PHONE_NUMBER"))

    assert sentence == ("Phone number: kept inside → report only. Questions with a phone number may now be answered "
                        "outside the perimeter; the finding is only recorded for officers.")
    # The label, not the action, keeps a phone number masked for analysts: no masking sentence.
    [blocked] = changes(entity_actions=lambda actions: actions.update(PHONE_NUMBER="block"))
    assert blocked.startswith("Phone number: kept inside → blocked. Questions with a phone number are now refused")


def test_it_says_when_a_change_of_action_unmasks_personal_data_for_analysts():
    # A date labelled "public" is masked only because the policy blocks it.
    rules_before = copy.deepcopy(DEFAULT_RULES)
    rules_before["entity_actions"]["DATE_TIME"] = "block"
    [change] = changes_between(Policy.from_rules(rules_before), Policy.from_rules(DEFAULT_RULES))

    assert change.what == "Date or time: blocked → report only."
    assert change.consequence.endswith("They were refused before. "
                                       "A date or time in answers and source passages is now shown to analysts (was masked).")


def test_it_says_which_documents_a_label_change_affects_and_what_analysts_see():
    [sentence] = changes(entity_labels=lambda labels: labels.update(EMAIL_ADDRESS="internal"))

    assert sentence == ("Documents indexed from now on: a passage with an e-mail address is labelled internal "
                        "(was confidential). Documents already indexed keep their labels until re-indexed. "
                        "An e-mail address in answers and source passages is now shown to analysts (was masked).")
    [raised] = changes(entity_labels=lambda labels: labels.update(URL="internal"))
    assert "labelled internal (was not raised by it)" in raised
    assert "Such passages are then answered only inside the perimeter." in raised


def test_it_says_who_may_now_reveal_personal_data_in_passages():
    [granted] = changes(passage_reveal={"analyst": ["PERSON"]})

    assert granted == ("Person's name: analysts may now reveal it in a source passage. Analysts may show a person's "
                       "name unmasked in a passage they open; each reveal is recorded in the audit ledger.")
    before = copy.deepcopy(DEFAULT_RULES) | {"passage_reveal": {"analyst": ["PERSON"]}}
    [withdrawn] = changes_between(Policy.from_rules(before), Policy.from_rules(DEFAULT_RULES))
    assert withdrawn.what == "Person's name: analysts may no longer reveal it in a source passage."


def test_it_gives_new_denied_topics_with_their_thresholds_and_lists_removed_and_edited_ones():
    topic = {"name": "Health of colleagues", "examples": ["Who is on sick leave?", "Is Anna ill?"]}

    [added] = changes(denied_topics=[topic], topic_min_similarity=0.75)
    assert added == ("New denied topic “Health of colleagues” (blocks from 0.75, reported from 0.675). "
                     "Questions close to its 2 examples are refused.")
    before = copy.deepcopy(DEFAULT_RULES) | {"denied_topics": [topic]}
    [removed] = changes_between(Policy.from_rules(before), Policy.from_rules(DEFAULT_RULES))
    assert removed.what == "Denied topic “Health of colleagues” removed."
    edited = copy.deepcopy(before)
    edited["denied_topics"][0]["examples"] = ["Who is on sick leave?", "Who is pregnant?", "Who sees a therapist?"]
    [change] = changes_between(Policy.from_rules(before), Policy.from_rules(edited))
    assert change.what == "Denied topic “Health of colleagues”: 2 examples added, 1 example removed."


def test_it_gives_the_thresholds_in_numbers():
    assert changes(topic_min_similarity=0.7) == [
        "Denied-topic similarity: 0.75 → 0.70 (blocks from 0.70, reported from 0.63). Every denied topic now catches more questions."]
    [injection] = changes(injection_min_score=0.8)
    assert injection.startswith("Injection classifier threshold: 0.65 → 0.80. Questions the classifier rates from 0.80")
    assert injection.endswith("fewer questions are blocked.")
    [general] = changes(pii_min_score=0.4)
    assert general.startswith("Minimum PII score: 0.50 → 0.40. Weaker personal-data findings now count")
    [own] = changes(entity_min_scores={"PERSON": 0.8})
    assert own == "Person's name: counted from a score of 0.80 (was 0.50, the general minimum). Weaker matches of it are now ignored."


def test_it_lists_patterns_added_changed_and_removed():
    pattern = {"name": "Employee number", "regex": r"EMP-\d{6}", "action": "sensitive"}

    [added] = changes(patterns=[pattern])
    assert added == ("New pattern “Employee number” (sensitive: perimeter only): EMP-\\d{6} "
                     "Questions matching it are now answered only inside the perimeter.")
    before = copy.deepcopy(DEFAULT_RULES) | {"patterns": [pattern]}
    after = copy.deepcopy(DEFAULT_RULES) | {"patterns": [pattern | {"action": "block", "regex": r"EMP-\d{7}"}]}
    assert [c.what for c in changes_between(Policy.from_rules(before), Policy.from_rules(after))] == [
        "Pattern “Employee number”: sensitive: perimeter only → block.",
        "Pattern “Employee number”: regular expression EMP-\\d{6} → EMP-\\d{7}",
    ]
    [removed] = changes_between(Policy.from_rules(before), Policy.from_rules(DEFAULT_RULES))
    assert removed.what == "Pattern “Employee number” removed."


def test_it_says_what_a_shorter_limit_and_a_new_refusal_text_mean_for_analysts():
    [limit] = changes(max_question_chars=2000)
    assert limit == ("Longest question: 4,000 → 2,000 characters. "
                     "Questions of 2,001 to 4,000 characters are now blocked before any other check.")
    [refusal] = changes(refusal_text="Ask compliance first.")
    assert refusal == "Refusal text changed. An analyst whose question is blocked now reads: “Ask compliance first.”"


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


def submitted_form(client, **changes) -> dict:
    """The editor's form as a browser sends it: the page's values unescaped, CHANGES typed over them."""
    return {name: html.unescape(value) for name, value in page_form(client, **changes).items()}


def text_of(response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", response.content.decode()))


@pytest.mark.django_db
@pytest.mark.services
def test_the_editor_says_the_unchanged_draft_is_the_version_in_force_above_the_publish_button(officer_client):
    current_policy_version()

    page = officer_client.get("/compliance/policy/").content.decode()

    assert "What this draft changes" in page
    assert page.index("This draft is the same as the version in force.") < page.index("Publish as v2")


@pytest.mark.django_db
@pytest.mark.services
def test_the_editor_lists_what_the_draft_in_the_form_changes(officer_client):
    current_policy_version()
    form = submitted_form(officer_client, action_PHONE_NUMBER="", max_question_chars="2000",
                          denied_topics="Health of colleagues: Who is on sick leave?")

    answer = officer_client.post("/compliance/policy/changes/", form).json()

    listed = html.unescape(answer["html"])
    assert "Phone number: kept inside → report only." in listed
    assert "Longest question: 4,000 → 2,000 characters." in listed
    assert "New denied topic “Health of colleagues” (blocks from 0.75, reported from 0.675)." in listed
    unchanged = officer_client.post("/compliance/policy/changes/", submitted_form(officer_client)).json()
    assert "This draft is the same as the version in force." in unchanged["html"]
    assert current_policy_version().number == 1  # nothing was published


@pytest.mark.django_db
@pytest.mark.services
def test_the_editor_names_the_error_of_a_draft_it_cannot_compare(officer_client):
    current_policy_version()

    response = officer_client.post("/compliance/policy/changes/", submitted_form(officer_client, patterns="no bars"))

    assert response.status_code == 400
    assert response.json()["error"].startswith("Organisation patterns: Line 1:")


@pytest.mark.django_db
@pytest.mark.services
@pytest.mark.parametrize("person", ["analyst", "admin", "outsider"])
def test_only_compliance_officers_may_compare_a_draft(client, request, person):
    current_policy_version()
    client.force_login(request.getfixturevalue(person))

    assert client.post("/compliance/policy/changes/", {"change_note": "x"}).status_code == 403


@pytest.mark.django_db
@pytest.mark.services
def test_each_version_page_says_what_changed_from_the_version_before_it(officer_client, officer):
    current_policy_version()
    rules = copy.deepcopy(DEFAULT_RULES)
    rules["entity_labels"]["EMAIL_ADDRESS"] = "internal"
    publish_policy(rules, "E-mail addresses are internal", officer)
    publish_policy(rules, "Same again", officer)

    first, second, third = (text_of(officer_client.get(f"/compliance/policy/versions/{n}/")) for n in (1, 2, 3))

    assert "The first version: there is no earlier one to compare it with." in first
    assert "What changed from version 1" in second
    assert ("Documents indexed from now on: a passage with an e-mail address is labelled internal (was confidential)."
            in second)
    assert "What changed from version 2" in third
    assert "Nothing: this version screens, labels and masks as the one before it." in third


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_list_follows_the_officer_editing_the_form_in_a_browser(browser, live_server, officer):  # noqa: F811
    current_policy_version()
    sign_in(browser, live_server, officer.username)
    browser.find_element(By.LINK_TEXT, "Question policy").click()
    listed = browser.find_element(By.ID, "draft-changes-list")
    assert listed.text == "This draft is the same as the version in force."

    Select(browser.find_element(By.NAME, "action_PHONE_NUMBER")).select_by_value("")
    browser.find_element(By.NAME, "denied_topics").send_keys("Health of colleagues: Who is on sick leave?")
    WebDriverWait(browser, 10).until(lambda _: "Health of colleagues" in listed.text)

    assert "Phone number: kept inside → report only." in listed.text
    assert "New denied topic “Health of colleagues” (blocks from 0.75, reported from 0.675)." in listed.text
    browser.find_element(By.NAME, "patterns").send_keys("no bars")
    WebDriverWait(browser, 10).until(lambda _: "cannot be published yet" in listed.text)
    assert listed.text == "This draft cannot be published yet: Organisation patterns: Line 1: write “Name | block or sensitive | regular expression”."
    browser.find_element(By.NAME, "patterns").clear()
    WebDriverWait(browser, 10).until(lambda _: "Health of colleagues" in listed.text)
    browser.execute_script("arguments[0].scrollIntoView()", browser.find_element(By.ID, "draft-changes"))
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "officer-policy-draft-changes.png"))
