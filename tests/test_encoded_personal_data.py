"""Personal data written in an encoding is still personal data.

The personal-data rail (find_personal_data over every reading of the question) on its own, then the
whole QuestionScreener.run through the real rails, Presidio and classifier, under the default policy.
"""
import pytest

from appliance.retrieval.embedding import Embedder
from guardrails.normalisation import normalise_question
from guardrails.personal_data import find_personal_data
from guardrails.pii import PiiScanner
from guardrails.policy import DEFAULT_RULES, Policy
from guardrails.screening import QuestionScreener, decide
from tests.encoded import PERSONAL_DATA, cases, encode

POLICY = Policy.from_rules(DEFAULT_RULES, version=1)


@pytest.fixture(scope="module")
def screener():
    screener = QuestionScreener(scanner=PiiScanner(), embedder=Embedder.from_settings())
    screener.warm_up()
    return screener


def question_with(encoding: str, kind: str) -> tuple[str, str]:
    encoded = encode(encoding, PERSONAL_DATA[kind][0])
    return f"Which contracts mention {encoded}?", encoded


@pytest.mark.parametrize(("encoding", "kind"), cases())
def test_it_finds_personal_data_in_every_encoding_and_points_at_it(screener, encoding, kind):
    _value, entity_type, action = PERSONAL_DATA[kind]
    question, encoded = question_with(encoding, kind)

    findings = find_personal_data(normalise_question(question), screener.scanner, POLICY)

    assert decide(findings) == action
    found = [f for f in findings if f.type == entity_type and f.action == action]
    assert found
    assert all(question[f.start:f.end].strip(" ?") in encoded for f in found)


@pytest.mark.parametrize(("encoding", "kind"), cases())
def test_it_never_lets_encoded_personal_data_through_as_clean(screener, encoding, kind):
    question, _encoded = question_with(encoding, kind)

    verdict = screener.run(question, POLICY)

    # A question that hides its words may also be blocked as an attack (injection.is_evasive):
    # stricter than the policy asks for personal data, never laxer.
    assert verdict.action in (PERSONAL_DATA[kind][2], "block")


def test_it_marks_an_encoded_address_sensitive_with_its_span_and_reading(screener):
    question = "Which contracts did amFuZS5kb2VAZXhhbXBsZS5jb20= sign?"

    verdict = screener.run(question, POLICY)

    assert verdict.action == "sensitive"
    [email] = [f for f in verdict.findings if f.type == "EMAIL_ADDRESS"]
    assert (question[email.start:email.end], email.reading, email.action) == (
        "amFuZS5kb2VAZXhhbXBsZS5jb20=", "base64", "sensitive")


def test_it_blocks_an_ssn_spelled_out_word_by_word(screener):
    question = "What do we hold on five three six dash two two dash eight one seven four?"

    verdict = screener.run(question, POLICY)

    assert verdict.action == "block"
    [ssn] = [f for f in verdict.findings if f.type == "US_SSN"]
    assert question[ssn.start:ssn.end] == "five three six dash two two dash eight one seven four"
    assert ssn.reading == "spelled out"


def test_it_marks_an_address_written_with_at_and_dot_sensitive(screener):
    question = "Did jane [at] example [dot] com approve the invoice?"

    verdict = screener.run(question, POLICY)

    assert verdict.action == "sensitive"
    [email] = [f for f in verdict.findings if f.type == "EMAIL_ADDRESS"]
    assert question[email.start:email.end] == "jane [at] example [dot] com"
