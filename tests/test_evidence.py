"""Which sentences the appliance quotes as evidence, and how much of the document each quote
carries (EvidenceSelector with the real MiniLM embedder and BM25 keywords; no model)."""
from appliance.answering.evidence import quote_span, sentences_of
from appliance.answering.prompting import Passage
from appliance.runtime import evidence_selector

MANUAL = (
    "'--exclude=GLOB'\n"
    "     Skip any command-line file with a name suffix that matches the\n"
    "     pattern GLOB.\n"
    "\n"
    "'--exclude-dir=GLOB'\n"
    "     Skip any command-line directory with a name suffix that matches the\n"
    "     pattern GLOB.  When searching recursively, skip any subdirectory\n"
    "     whose base name matches GLOB.  Ignore any redundant trailing\n"
    "     slashes in GLOB.\n"
)
RECEIPTS = (
    "Always ask for a receipt. A lost receipt can be replaced once per quarter by a signed declaration "
    "explaining the expense. Finance checks a random sample of claims every month and may ask for the "
    "original paper receipt, so keep the paper receipts for 3 months after the claim is paid; claims "
    "without a receipt or a declaration are returned to the employee and are not paid until one is "
    "attached, which can delay the payment by a whole salary run."
)


def passage(text: str, number: int = 1, section: str = "2.1.6 File and Directory Selection") -> Passage:
    return Passage(number, f"chunk{number}", "grep-manual.txt", "doc", 1, section, None, 0.03, "public", text)


def test_it_quotes_a_manual_entry_whole_so_the_option_name_comes_with_its_description():
    selector = evidence_selector()
    question = "How do I skip the node_modules folder when I search a whole directory tree?"
    vector = selector.embedder.embed([question])[0]

    evidence = selector.run(question, vector, [passage(MANUAL)])

    best = max(evidence.quotes, key=lambda quote: quote.score)
    assert "'--exclude-dir=GLOB'" in best.text
    assert "skip any subdirectory" in best.text
    assert MANUAL[best.start:best.end] == best.text  # verbatim, at its offsets


def test_it_quotes_a_short_sentence_with_the_one_after_it_in_a_long_paragraph():
    receipts = passage(RECEIPTS, section="6.2. Receipts")
    first = sentences_of(receipts, 1)[0]
    assert first.text == "Always ask for a receipt."

    start, end = quote_span(first)

    assert RECEIPTS[start:end] == (
        "Always ask for a receipt. A lost receipt can be replaced once per quarter by a signed declaration "
        "explaining the expense."
    )


def test_it_quotes_a_long_sentence_of_a_long_paragraph_alone():
    receipts = passage(RECEIPTS, section="6.2. Receipts")
    third = sentences_of(receipts, 1)[2]

    assert quote_span(third) == (third.start, third.end)


def test_it_summarises_only_what_the_passages_are_about():
    selector = evidence_selector()
    handbook = passage("Welcome to Pinewood Logistics. This handbook explains working hours, leave and expenses.",
                       section="Welcome")

    def summary(question):
        return selector.run(question, selector.embedder.embed([question])[0], [handbook])

    assert summary("Summarise this document").answers_question
    assert summary("Give me an overview of the leave rules").answers_question
    refunds = summary("Summarise the refund document")
    assert not refunds.answers_question
    assert refunds.quotes == ()


def test_a_title_heading_above_the_section_does_not_drown_what_the_sentence_means():
    # A new-user trial: a handbook whose Markdown starts with a title heading was told "not in the
    # documents" for "how many days of holiday", quoting the very sentence that answers it.
    selector = evidence_selector()
    leave = ("Full-time employees receive 25 days of annual leave per year plus public holidays. After 5 years "
             "of continuous service, entitlement rises to 27 days.")
    question = "How many days of holiday do I get each year?"

    def judged(section):
        return selector.run(question, selector.embedder.embed([question])[0], [passage(leave, section=section)])

    titled = judged("Brightwater Staff Handbook > 3. Leave > 3.1 Annual leave")
    untitled = judged("3.1 Annual leave")

    assert titled.answers_question and "25 days of annual leave" in titled.quotes[0].text
    assert titled.features == untitled.features
