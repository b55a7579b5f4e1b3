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
SYNOPSIS = (
    "The general synopsis of the 'grep' command line is\n"
    "\n"
    "     grep [OPTION...] PATTERNS [FILE...]\n"
    "\n"
    "'grep' comes with a rich set of options: some from POSIX and some being GNU extensions.\n"
)
IGNORE_CASE = (
    "'-i'\n"
    "'--ignore-case'\n"
    "     Ignore case distinctions in patterns and input data, so that characters that differ only in case\n"
    "     match each other.\n"
)
GIFTS = (
    "You may accept gifts and hospitality from customers or suppliers with a value of up to EUR 50. Gift cards, "
    "vouchers and cash must always be refused, whatever their value. Anything else worth more than EUR 50 must be "
    "reported to the Compliance Officer within 5 working days, who records it in the gift register and decides "
    "whether you may keep it. Gifts offered during a tender are never accepted."
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


def test_it_declines_questions_on_the_topic_that_the_documents_do_not_answer():
    # On-topic questions the documents are silent on were quoted the closest sentence as if it
    # answered: the synopsis shares "grep" with the question, and nothing else.
    selector = evidence_selector()
    manual = [passage(SYNOPSIS, 1, "2.1 Command-line Options"), passage(IGNORE_CASE, 2, "2.1.2 Matching Control")]

    def judged(question):
        return selector.run(question, selector.embedder.embed([question])[0], manual)

    assert not judged("How do I install grep on Windows?").answers_question
    assert not judged("Is grep faster than ripgrep?").answers_question
    answered = judged("How do I make grep ignore upper and lower case?")
    assert answered.answers_question
    assert "'--ignore-case'" in answered.quotes[0].text


def test_it_quotes_the_sentence_that_makes_an_exception_to_the_best_one():
    # A browser trial: "Can I accept a EUR 20 gift card?" was quoted only the EUR 50 rule, which
    # reads as a yes; the next sentence says gift cards are always refused.
    selector = evidence_selector()
    question = "Can I accept a EUR 20 gift card from a supplier?"

    evidence = selector.run(question, selector.embedder.embed([question])[0],
                            [passage(GIFTS, section="6.1 Gifts and hospitality")])

    quoted = " ".join(quote.text for quote in evidence.quotes)
    assert "with a value of up to EUR 50." in quoted
    assert "Gift cards, vouchers and cash must always be refused, whatever their value." in quoted
    assert all(GIFTS[quote.start:quote.end] == quote.text for quote in evidence.quotes)


PAY = (
    "Hourly rates from 1 April:\n\n"
    "| Role | Weekdays | Sundays |\n"
    "|---|---|---|\n"
    "| Sales assistant | £12.60 | £14.20 |\n"
    "| Plant care assistant | £12.90 | £14.50 |\n"
    "| Delivery driver | £13.40 | £15.10 |\n\n"
    "Pay is made on the last Friday of each month."
)


def test_it_quotes_a_table_row_with_the_header_that_says_what_its_figures_are():
    table = passage(PAY, section="5. Pay")
    row = next(s for s in sentences_of(table, 1) if s.text.startswith("| Plant care"))

    start, end = quote_span(row)

    assert PAY[start:end] == ("| Role | Weekdays | Sundays |\n|---|---|---|\n| Sales assistant | £12.60 | £14.20 |\n"
                              "| Plant care assistant | £12.90 | £14.50 |")
    outside = next(s for s in sentences_of(table, 1) if s.text.startswith("Pay is made"))
    assert quote_span(outside) == (outside.start, outside.end)  # not a table row: as before
