"""Turning a question into the readings a prompt-injection detector must examine.

Keyword rules and classifiers see code points, people and language models see glyphs, and attackers
live in the gap. A question that reads "What is the leave policy?" on screen can carry:

- Unicode tag characters (U+E0000..U+E007F): invisible, and each one spells an ASCII character
  (chr(cp - 0xE0000)). Models read the hidden sentence; a rule never sees it.
- zero-width characters (U+200B, U+200C, U+200D, U+2060, U+FEFF, U+180E, soft hyphen U+00AD, and a
  few other invisible ones) inside a word: "ig\u200bnore" is "ignore" to a model, not to a regex.
- bidi controls (U+202A..U+202E, U+2066..U+2069, U+200E, U+200F, U+061C): an override (RLO, U+202E)
  shows text in a different order than it is stored, isolates split words apart.
- homoglyphs: Cyrillic and Greek letters that look Latin ("іgnоrе" with Cyrillic і, о, е).
- compatibility forms: full-width "ｉｇｎｏｒｅ", mathematical bold letters, ligatures (NFKC folds those).
- encoded payloads (base16/32/64/85, ascii85, uuencode, binary, morse, braille, URL %-encoding,
  quoted-printable), letter ciphers (rot13, atbash, leetspeak) and spelled-out text (NATO
  alphabet, digits as words, "jane [at] example [dot] com"), with a request to decode and follow
  them, or hiding personal data from the screen.

This module only normalises and decodes: normalise_question() returns a NormalisedQuestion whose
`readings` are the texts detectors must examine, and whose `obfuscations` say which tricks were used
and where. Other modules run rules and a classifier over the readings. Readings come in this order:

1. "normalised": the whole question after NFKC, with invisible and bidi characters removed,
   homoglyphs folded in mixed-script words and whitespace collapsed. Always first, always present.
2. "hidden tag text": the ASCII spelt by tag characters (all runs joined, so a sentence split
   around visible words is whole again).
3. decoded payloads ("hex", "base32", "base64", "base85", "ascii85", "uuencode", "binary", "morse",
   "braille", "url-encoded"): each payload that decoded to text with words in it, or to an e-mail
   address or a number of 9 digits or more, each followed by the payloads decoded from it, down to
   max_decode_depth levels. A decoded layer that is neither (base64 inside hex) is followed but
   gives no reading of its own. The decoders are in encodings.py.
4. "rot13": the rot13 of the normalised question, when the question mentions rot13, Caesar or
   rotation, or when its rot13 holds clearly more common English words than it does (or an e-mail
   address appears only once rotated). "atbash" likewise.
5. "leetspeak": the question with leet words read as letters, when they become English words or an
   e-mail address.
6. "quoted-printable": the question with its =XX escapes decoded, when it has three in runs.
7. "spelled out": the question with NATO spelling, spelled-out digits and [at]/(dot) addresses read
   as what they spell. Recorded as the obfuscation "spelled out", which is not evasive.

What is *not* an obfuscation, because people type it every day: emoji tag sequences (England's flag
is U+1F3F4 followed by the tags "gbeng" and CANCEL TAG, and stays in the normalised text), ZWJ
between emoji (family and profession emoji), ZWJ/ZWNJ in Persian, Arabic and Indic words, ZWSP in
Thai or CJK text, bidi marks and isolates in Hebrew or Arabic text, whole Russian or Greek sentences,
Greek letters in science ("5 µm", "TNFα"), SHA-256 digests, UUIDs, invoice numbers and random base64
ids (those decode to bytes that are not text). Invisible and bidi characters are removed from the
normalised text either way; only the suspicious uses are recorded.

Genuine Russian or Greek text is not transliterated, and gets no transliterated reading either: a
Russian injection is caught by rules and a classifier that read Russian, and "Kakova politika
otpuskov" would only hand English rules noise. What transliteration would catch, Latin words
disguised with look-alike letters, is folded in the normalised reading already.

Spans: every Reading and Obfuscation carries a span of the *original* question, and
NormalisedQuestion.original_span() maps a match inside the normalised reading, or inside a reading
rewritten from it (rot13, atbash, leetspeak, quoted-printable, spelled out), back to the original
exactly (an offset map is kept through each step), so analysts and auditors see what was typed. A
match in a decoded payload maps to the encoded token.

The work is bounded for hostile input: one linear pass per step, regular expressions without
ambiguous nested quantifiers, at most MAX_DECODED_PAYLOADS decode attempts per question, and
MAX_PAYLOAD_CHARS of each payload and of each rewritten reading. Only the standard library is used.
"""
import base64
import binascii
import functools
import re
import unicodedata
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

from guardrails import encodings

SpanMap = Callable[[int, int], tuple[int, int]]
"""Maps a span of some analysed text to a span of the original question."""

MAX_DECODED_PAYLOADS = 32
"""Decode attempts per question (all depths together): a question of 100,000 base64-looking words
costs 32 decodes, not 10,000."""

MAX_PAYLOAD_CHARS = 16_384
"""Longer payloads are decoded from their first MAX_PAYLOAD_CHARS characters only."""

MAX_NFKC_SEGMENT = 32
"""Characters NFKC sees at once when the offset map is kept (real compositions need two or three)."""

ORIGINS = ("normalised", "hidden tag text", "base64", "hex", "rot13", "url-encoded", "base32", "base85", "ascii85",
           "uuencode", "binary", "morse", "braille", "quoted-printable", "spelled out", "atbash", "leetspeak")
DECODED_ORIGINS = frozenset(ORIGINS) - {"normalised", "rot13", "atbash", "leetspeak"}
"""Readings of text someone hid or encoded on purpose (the whole-question ciphers are guesses)."""
KINDS = ("tag characters", "zero-width characters", "bidi controls", "homoglyphs", "encoded payload",
         "encoded personal data", "spelled out")
# "encoded personal data": a payload or cipher that hides only an e-mail address or a number, no
# words. It hides personal data from the screen, not instructions from the injection detector, so
# unlike "encoded payload" it is not evasive (guardrails/injection.py: is_evasive).


@dataclass(frozen=True)
class Reading:
    """One text a detector should examine, and where in the question it came from.

    origin is one of ORIGINS. start/end is the span of the original question the text was derived
    from: the whole question for "normalised" and "rot13", the tag characters for "hidden tag text",
    the (outermost) encoded token for decoded payloads.
    """

    text: str
    origin: str
    start: int
    end: int
    # For readings rewritten from the normalised question ("spelled out", the ciphers): text[i] came
    # from original[char_starts[i]:char_ends[i]]. Empty for decoded payloads.
    char_starts: tuple[int, ...] = field(default=(), repr=False, compare=False)
    char_ends: tuple[int, ...] = field(default=(), repr=False, compare=False)


@dataclass(frozen=True)
class Obfuscation:
    """Something done to the text that a person typing a question would not do.

    kind is one of KINDS; count is how many characters (or, for "encoded payload", payloads) were
    found; start/end spans the original question from the first occurrence to the last.
    """

    kind: str
    count: int
    start: int
    end: int


@dataclass(frozen=True)
class NormalisedQuestion:
    """A question, its normalised form, the readings detectors examine and the tricks found in it.

    normalised: NFKC; invisible and bidi characters removed (except emoji tag sequences, which are
    part of a visible flag); homoglyphs in mixed-script words folded; whitespace runs collapsed to
    one space and the ends stripped. Case is kept: detectors decide whether to casefold.

    char_starts/char_ends are the offset map: normalised[i] came from original[char_starts[i]:
    char_ends[i]] (a collapsed whitespace run or an NFKC expansion maps to the whole source run).
    """

    original: str
    normalised: str
    readings: tuple[Reading, ...]
    obfuscations: tuple[Obfuscation, ...]
    char_starts: tuple[int, ...] = field(default=(), repr=False, compare=False)
    char_ends: tuple[int, ...] = field(default=(), repr=False, compare=False)

    def original_span(self, reading: Reading, start: int, end: int) -> tuple[int, int]:
        """The span of the original question that reading.text[start:end] came from.

        Exact for the normalised reading and the readings rewritten from it (through the offset
        map; removed characters between the first and the last matched character are inside the
        span). A decoded or hidden reading has no character-level map: its own start/end is
        returned. Out-of-range spans are clamped.
        """
        if reading.origin == "normalised" and reading.text == self.normalised:
            starts, ends = self.char_starts, self.char_ends
        else:
            starts, ends = reading.char_starts, reading.char_ends
        n = len(reading.text)
        if len(starts) != n:
            return reading.start, reading.end
        if not n:
            return reading.start, reading.start
        start = min(max(start, 0), n)
        end = min(max(end, start), n)
        if start < end:
            return starts[start], ends[end - 1]
        position = starts[start] if start < n else ends[-1]
        return position, position


# --- character tables ---------------------------------------------------------------------------

TAG_FIRST, TAG_LAST = 0xE0000, 0xE007F
ZWSP, ZWNJ, ZWJ, WORD_JOINER, BOM, MONGOLIAN_VOWEL_SEPARATOR, SOFT_HYPHEN = (
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u180e", "\u00ad"
)
ZERO_WIDTH = frozenset((ZWSP, ZWNJ, ZWJ, WORD_JOINER, BOM, MONGOLIAN_VOWEL_SEPARATOR, SOFT_HYPHEN))
# Other characters that render as nothing: invisible maths operators, deprecated format controls,
# the combining grapheme joiner, Hangul fillers, Khmer inherent vowels. Treated like zero-width ones.
OTHER_INVISIBLE = frozenset("\u2061\u2062\u2063\u2064\u206a\u206b\u206c\u206d\u206e\u206f\u034f"
                            "\u115f\u1160\u3164\uffa0\u17b4\u17b5")
EMBEDDINGS = frozenset("\u202a\u202b\u202d\u202e")  # LRE, RLE, LRO, RLO: closed by PDF
POP_DIRECTIONAL_FORMATTING = "\u202c"
ISOLATES = frozenset("\u2066\u2067\u2068")  # LRI, RLI, FSI: closed by PDI
POP_DIRECTIONAL_ISOLATE = "\u2069"
RIGHT_TO_LEFT_OVERRIDE = "\u202e"
BIDI_MARKS = frozenset("\u200e\u200f\u061c")  # LRM, RLM, ALM
BIDI_CONTROLS = EMBEDDINGS | ISOLATES | BIDI_MARKS | {POP_DIRECTIONAL_FORMATTING, POP_DIRECTIONAL_ISOLATE}

# Everything that is removed from the normalised text (except the tags of a flag, see below):
# tags, zero-width and other invisible characters, bidi controls, variation selectors, and C0/C1
# control characters other than the whitespace ones (\t \n \v \f \r and NEL).
_REMOVABLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0"
    "\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)
# An RGI subdivision flag: WAVING BLACK FLAG, a region and subdivision spelt in tag letters and
# digits ("gbeng", "gbsct", "usca"), CANCEL TAG.
_FLAG_TAG_SEQUENCE = re.compile("\U0001f3f4[\U000e0030-\U000e0039\U000e0061-\U000e007a]{2,7}\U000e007f")
_RTL_LETTER = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\U00010800-\U00010fff\U0001e800-\U0001efff]")
_LTR_ALPHABET_LETTER = re.compile(
    "[A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u052f\u1e00-\u1fff\uff21-\uff3a\uff41-\uff5a]"
)

# Homoglyphs, picked by hand from Unicode's confusables.txt (https://www.unicode.org/Public/security/
# latest/confusables.txt): the Cyrillic and Greek letters whose glyph is a Latin letter's in common
# fonts. A few (Greek ε ι κ ν τ υ, Cyrillic У) are looser look-alikes than confusables.txt lists,
# added because attackers use them.
CONFUSABLES: dict[str, str] = {
    # Cyrillic
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "һ": "h",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "У": "Y", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S", "Ԁ": "D", "Ԛ": "Q", "Ԝ": "W", "Ӏ": "l", "Һ": "H",
    # Greek
    "ο": "o", "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
}
# Latin-script look-alikes (dotless i, script l, Latin alpha, script g, iota): folded wherever they
# appear, never recorded on their own. NFKC already turns ℓ into l; it is listed for the record.
LATIN_VARIANTS: dict[str, str] = {"ı": "i", "ℓ": "l", "ɑ": "a", "ɡ": "g", "ɩ": "i"}
# The other way round, for a Cyrillic or Greek word with a Latin letter slipped in ("игнoрируй").
_LATIN_TO_CYRILLIC = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "y": "у", "x": "х", "A": "А", "B": "В",
                      "E": "Е", "K": "К", "M": "М", "H": "Н", "O": "О", "P": "Р", "C": "С", "T": "Т", "X": "Х"}
_LATIN_TO_GREEK = {"o": "ο", "a": "α", "v": "ν", "p": "ρ", "x": "χ", "A": "Α", "B": "Β", "E": "Ε", "Z": "Ζ",
                   "H": "Η", "I": "Ι", "K": "Κ", "M": "Μ", "N": "Ν", "O": "Ο", "P": "Ρ", "T": "Τ", "Y": "Υ", "X": "Χ"}

_SCRIPT_RANGES = {
    "latin": ((0x00C0, 0x024F), (0x1E00, 0x1EFF), (0x2C60, 0x2C7F), (0xA720, 0xA7FF), (0xAB30, 0xAB6F),
              (0xFF21, 0xFF3A), (0xFF41, 0xFF5A)),
    "greek": ((0x0370, 0x03FF), (0x1F00, 0x1FFF)),
    "cyrillic": ((0x0400, 0x052F), (0x1C80, 0x1C8F), (0x2DE0, 0x2DFF), (0xA640, 0xA69F)),
    "rtl": ((0x0590, 0x08FF), (0xFB1D, 0xFDFF), (0xFE70, 0xFEFC), (0x10800, 0x10FFF), (0x1E800, 0x1EFFF)),
    # scripts whose words legitimately contain ZWJ/ZWNJ: Arabic-script and Indic (plus Sinhala,
    # Tibetan, Myanmar, Khmer, Mongolian)
    "joining": ((0x0590, 0x08FF), (0xFB1D, 0xFDFF), (0xFE70, 0xFEFC), (0x0900, 0x0DFF), (0x0F00, 0x0FFF),
                (0x1000, 0x109F), (0x1780, 0x18AF), (0xA8E0, 0xA8FF), (0x11000, 0x1107F)),
    # scripts written without spaces, where ZWSP marks word breaks (and CJK variation selectors live)
    "unspaced": ((0x0E00, 0x0FFF), (0x1000, 0x109F), (0x1100, 0x11FF), (0x1780, 0x17FF), (0x2E80, 0x9FFF),
                 (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF)),
    "mongolian": ((0x1800, 0x18AF),),
    "emoji": ((0x00A9, 0x00A9), (0x00AE, 0x00AE), (0x203C, 0x203C), (0x2049, 0x2049), (0x2122, 0x2122),
              (0x2139, 0x2139), (0x2190, 0x21FF), (0x2300, 0x23FF), (0x24C2, 0x24C2), (0x25A0, 0x27BF),
              (0x2900, 0x297F), (0x2B00, 0x2BFF), (0x3030, 0x3030), (0x303D, 0x303D), (0x3297, 0x3299),
              (0x1F000, 0x1FAFF), (0xE0020, 0xE007F)),
}


def _in_script(ch: str | None, script: str) -> bool:
    return ch is not None and script in _scripts_of(ch)


@functools.lru_cache(maxsize=4096)
def _scripts_of(ch: str) -> frozenset[str]:
    """The _SCRIPT_RANGES names whose ranges hold CH (cached: questions reuse few characters)."""
    cp = ord(ch)
    return frozenset(name for name, ranges in _SCRIPT_RANGES.items() if any(low <= cp <= high for low, high in ranges))


def _is_latin_letter(ch: str) -> bool:
    return ("a" <= ch <= "z") or ("A" <= ch <= "Z") or (ch.isalpha() and _in_script(ch, "latin"))


def _is_cyrillic_or_greek_letter(ch: str) -> bool:
    return ch.isalpha() and (_in_script(ch, "cyrillic") or _in_script(ch, "greek"))


def _inside_word(before: str | None, after: str | None) -> bool:
    """Both neighbours are letters or digits: the character splits a word."""
    return before is not None and after is not None and before.isalnum() and after.isalnum()


# --- step 1: invisible characters and bidi controls -------------------------------------------------

@dataclass
class _Removal:
    """What step 1 found: the kept characters, their original indices and the suspicious uses."""

    kept: str
    indices: list[int]
    events: dict[str, list[int]]  # kind -> original indices of the suspicious characters
    hidden: str  # ASCII spelt by the suspicious tag characters
    hidden_span: tuple[int, int]


def _remove_invisible(text: str) -> _Removal:
    """Remove tag, zero-width, invisible and bidi characters; judge each use by its neighbours."""
    positions = [match.start() for match in _REMOVABLE.finditer(text)]
    if not positions:
        return _Removal(text, list(range(len(text))), {}, "", (0, 0))
    protected: set[int] = set()
    if any(TAG_FIRST <= ord(text[p]) <= TAG_LAST for p in positions):
        for match in _FLAG_TAG_SEQUENCE.finditer(text):
            protected.update(range(match.start() + 1, match.end()))
    removed = [p for p in positions if p not in protected]
    events: dict[str, list[int]] = {}
    tags: list[int] = []
    bidi = _BidiJudge(text)
    for group in _consecutive_groups(removed):
        before = text[group[0] - 1] if group[0] > 0 else None
        after = text[group[-1] + 1] if group[-1] + 1 < len(text) else None
        _judge_group(text, group, before, after, bidi, events, tags)
    hidden = "".join(chr(ord(text[p]) - TAG_FIRST) for p in tags if 0x20 <= ord(text[p]) - TAG_FIRST < 0x7F)
    hidden_span = (tags[0], tags[-1] + 1) if tags else (0, 0)
    return _Removal(*_without(text, removed), events, hidden, hidden_span)


def _consecutive_groups(positions: list[int]) -> list[list[int]]:
    groups: list[list[int]] = []
    for p in positions:
        if groups and groups[-1][-1] == p - 1:
            groups[-1].append(p)
        else:
            groups.append([p])
    return groups


def _without(text: str, removed: list[int]) -> tuple[str, list[int]]:
    """TEXT without the characters at REMOVED (sorted), and the original index of each kept one."""
    pieces: list[str] = []
    indices: list[int] = []
    previous = 0
    for p in removed + [len(text)]:
        pieces.append(text[previous:p])
        indices.extend(range(previous, p))
        previous = p + 1
    return "".join(pieces), indices


def _judge_group(text: str, group: list[int], before: str | None, after: str | None, bidi: "_BidiJudge",
                 events: dict[str, list[int]], tags: list[int]) -> None:
    """Sort one run of removed characters into tags, zero-width and bidi uses, keeping the suspicious."""
    invisible = [p for p in group if _is_zero_width_like(text[p])]
    selectors = [p for p in group if _is_variation_selector(text[p])]
    for p in group:
        ch = text[p]
        if TAG_FIRST <= ord(ch) <= TAG_LAST:
            tags.append(p)
            events.setdefault("tag characters", []).append(p)
        elif ch in BIDI_CONTROLS:
            if bidi.suspicious(p, before, after):
                events.setdefault("bidi controls", []).append(p)
        elif _is_variation_selector(ch):
            if len(selectors) > 1 or (_inside_word(before, after) and not _legit_selector_context(before)):
                events.setdefault("zero-width characters", []).append(p)
        elif len(invisible) > 1 or (_inside_word(before, after) and not _legit_zero_width(ch, p, before, after)):
            events.setdefault("zero-width characters", []).append(p)


def _is_variation_selector(ch: str) -> bool:
    return "\ufe00" <= ch <= "\ufe0f" or "\U000e0100" <= ch <= "\U000e01ef"


def _is_zero_width_like(ch: str) -> bool:
    return ch in ZERO_WIDTH or ch in OTHER_INVISIBLE or unicodedata.category(ch) == "Cc"


def _legit_zero_width(ch: str, position: int, before: str | None, after: str | None) -> bool:
    """The uses of zero-width characters that real writing needs."""
    if ch == ZWJ and _in_script(before, "emoji") and _in_script(after, "emoji"):
        return True  # family, profession, rainbow-flag emoji
    if ch in (ZWJ, ZWNJ):
        return _in_script(before, "joining") or _in_script(after, "joining")  # Persian, Arabic, Indic
    if ch == ZWSP:
        return _in_script(before, "unspaced") or _in_script(after, "unspaced")  # Thai, Khmer, CJK
    if ch == MONGOLIAN_VOWEL_SEPARATOR:
        return _in_script(before, "mongolian") or _in_script(after, "mongolian")
    return ch == BOM and position == 0  # a byte order mark left over from a file


def _legit_selector_context(before: str | None) -> bool:
    """Variation selectors follow emoji (VS16) and CJK ideographs (ideographic variation sequences)."""
    return _in_script(before, "emoji") or _in_script(before, "unspaced")


class _BidiJudge:
    """Decides, control by control in text order, whether a bidi control is suspicious.

    Marks, embeddings and isolates are what Hebrew and Arabic writing uses, so in a question with
    right-to-left letters they are legitimate, unless they split a Latin, Greek or Cyrillic word.
    In a question without right-to-left letters they have no business. A right-to-left override
    (RLO) is suspicious unless everything it governs is right-to-left: over Latin text it shows the
    letters in another order than they are stored ("Trojan Source"). A closing PDF/PDI shares the
    verdict of the control it closes.
    """

    GOVERNED_CHARS = 256  # how far an override's reach is examined

    def __init__(self, text: str):
        self.text = text
        self.open: list[tuple[str, bool]] = []  # ("embedding" | "isolate", verdict)

    @functools.cached_property
    def has_rtl(self) -> bool:
        return _RTL_LETTER.search(self.text) is not None

    def suspicious(self, position: int, before: str | None, after: str | None) -> bool:
        ch = self.text[position]
        splits_word = _inside_word(before, after) and not (_in_script(before, "rtl") or _in_script(after, "rtl"))
        if ch == POP_DIRECTIONAL_FORMATTING:
            return self._close("embedding") or splits_word
        if ch == POP_DIRECTIONAL_ISOLATE:
            return self._close("isolate") or splits_word
        verdict = splits_word or not self.has_rtl
        if ch == RIGHT_TO_LEFT_OVERRIDE:
            verdict = verdict or not self._governs_only_rtl(position)
        if ch in EMBEDDINGS:
            self.open.append(("embedding", verdict))
        elif ch in ISOLATES:
            self.open.append(("isolate", verdict))
        return verdict

    def _close(self, family: str) -> bool:
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i][0] == family:
                verdict = self.open[i][1]
                del self.open[i:]
                return verdict
        return not self.has_rtl

    def _governs_only_rtl(self, position: int) -> bool:
        limit = min(len(self.text), position + 1 + self.GOVERNED_CHARS)
        ends = [i for i in (self.text.find(POP_DIRECTIONAL_FORMATTING, position + 1, limit),
                            self.text.find("\n", position + 1, limit)) if i >= 0]
        end = min(ends, default=limit)
        return (_RTL_LETTER.search(self.text, position + 1, end) is not None
                and _LTR_ALPHABET_LETTER.search(self.text, position + 1, end) is None)


# --- step 2: NFKC, keeping the offset map -------------------------------------------------------------

def _nfkc(text: str, starts: list[int], ends: list[int]) -> tuple[str, list[int], list[int]]:
    """NFKC of TEXT with the map carried along; an expansion or composition maps to its whole source.

    The text is normalised segment by segment: a starter and its combining marks, merged with the next
    one whenever normalising them apart differs from normalising them together (Hangul jamo, Indic
    two-part vowels). ASCII never composes with what precedes it, so it always starts a segment.
    """
    if unicodedata.is_normalized("NFKC", text):
        return text, starts, ends
    out: list[str] = []
    out_starts: list[int] = []
    out_ends: list[int] = []
    for first, last, normalised in _nfkc_segments(text):
        out.append(normalised)
        if normalised == text[first:last]:
            out_starts.extend(starts[first:last])
            out_ends.extend(ends[first:last])
        else:
            out_starts.extend([starts[first]] * len(normalised))
            out_ends.extend([ends[last - 1]] * len(normalised))
    return "".join(out), out_starts, out_ends


def _nfkc_segments(text: str) -> list[tuple[int, int, str]]:
    """(first, last, NFKC of text[first:last]) for segments that NFKC may normalise one at a time."""
    segments: list[tuple[int, int, str]] = []
    first = 0
    i = _cluster_end(text, 0)
    segment_nfkc = unicodedata.normalize("NFKC", text[:i])
    while i < len(text):
        j = _cluster_end(text, i)
        cluster_nfkc = unicodedata.normalize("NFKC", text[i:j])
        if text[i] < "\x80" or i - first >= MAX_NFKC_SEGMENT:
            together = None  # ASCII never composes with what precedes it
        else:
            together = unicodedata.normalize("NFKC", text[first:j])
        if together is None or together == segment_nfkc + cluster_nfkc:
            segments.append((first, i, segment_nfkc))
            first, segment_nfkc = i, cluster_nfkc
        else:
            segment_nfkc = together
        i = j
    segments.append((first, len(text), segment_nfkc))
    return segments


def _cluster_end(text: str, i: int) -> int:
    """The end of the cluster starting at I: one character and the combining marks after it."""
    j = i + 1
    while j < len(text) and unicodedata.combining(text[j]):
        j += 1
    return j


# --- step 3: homoglyphs -----------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


@dataclass
class _Word:
    start: int
    end: int
    kind: str  # "latin" | "mixed" | "confusable" | "foreign" | "other"
    fold_to: str = "latin"  # for "mixed" words: "latin", "cyrillic", "greek", or "" to leave it


def _classify(match: re.Match) -> _Word:
    """latin: Latin letters only; mixed: Latin with Cyrillic/Greek; confusable: two or more Cyrillic/
    Greek letters that all look Latin ("сору"); foreign: Cyrillic/Greek with a letter that does not
    ("политика"); other: anything else (digits, Arabic, CJK, a lone Greek letter such as "α")."""
    word = match.group()
    if word.isascii():
        return _Word(match.start(), match.end(), "latin" if any(c.isalpha() for c in word) else "other")
    latin = confusable = foreign = greek = 0
    for ch in word:
        kind, is_greek = _letter_kind(ch)
        latin += kind == "latin"
        confusable += kind == "confusable"
        foreign += kind == "foreign"
        greek += is_greek
    if latin and (confusable or foreign):
        if foreign > latin:
            fold_to = "greek" if greek * 2 > confusable + foreign else "cyrillic"
        else:
            fold_to = "" if _greek_suffix(word) else "latin"
        return _Word(match.start(), match.end(), "mixed", fold_to)
    if latin:
        return _Word(match.start(), match.end(), "latin")
    if foreign:
        return _Word(match.start(), match.end(), "foreign")
    return _Word(match.start(), match.end(), "confusable" if confusable > 1 else "other")


@functools.lru_cache(maxsize=4096)
def _letter_kind(ch: str) -> tuple[str, bool]:
    """("confusable" | "latin" | "foreign" | "", whether it is Greek) for one character."""
    is_greek = _in_script(ch, "greek")
    if ch in CONFUSABLES:
        return "confusable", is_greek
    if ch in LATIN_VARIANTS or _is_latin_letter(ch):
        return "latin", False
    if _is_cyrillic_or_greek_letter(ch):
        return "foreign", is_greek
    return "", False


def _greek_suffix(word: str) -> bool:
    """Greek letters ending a name after a capital or digit, as in "TNFα" or "HIF1α": science, not an
    attack."""
    first_greek = next((i for i, ch in enumerate(word) if _in_script(ch, "greek")), 0)
    return (first_greek > 0 and (word[first_greek - 1].isupper() or word[first_greek - 1].isdigit())
            and all(_in_script(ch, "greek") and ch.isalpha() for ch in word[first_greek:]))


def _fold_homoglyphs(text: str) -> tuple[str, list[int]]:
    """Fold look-alike letters in mixed-script words; return the text and the folded positions.

    A Latin word with a Cyrillic or Greek look-alike in it ("іgnоrе") is folded to Latin; a Cyrillic
    or Greek word with a Latin look-alike slipped in ("игнoрируй") is folded to its own script. A word
    of two or more look-alike Cyrillic/Greek letters ("ѕау") is folded to Latin when a neighbouring
    word is Latin, neither neighbour is a genuine Cyrillic/Greek word and the question has more Latin
    words than genuine Cyrillic/Greek ones, so "Как настроить VPN с Outlook?" keeps its Russian "с".
    Genuine Russian or Greek sentences are left as they are, and so are Greek letters in science
    ("5 µm", "α-synuclein", "TNFα"). Only look-alikes are folded, and only the folded are recorded.
    """
    if text.isascii():
        return text, []
    words = [_classify(match) for match in _WORD.finditer(text)]
    if all(word.kind in ("latin", "other") for word in words) and not any(ch in LATIN_VARIANTS for ch in text):
        return text, []
    chars = list(text)
    recorded: list[int] = []
    latin_words = sum(word.kind in ("latin", "mixed") for word in words)
    foreign_words = sum(word.kind == "foreign" for word in words)
    beside_latin = _beside_latin(words) if latin_words > foreign_words else [False] * len(words)
    for word, latin_neighbour in zip(words, beside_latin):
        if word.kind == "mixed" and word.fold_to in ("cyrillic", "greek"):
            recorded += _fold_latin_letters(chars, word)
        elif (word.kind == "mixed" and word.fold_to == "latin") or (word.kind == "confusable" and latin_neighbour):
            recorded += _fold_to_latin(chars, word)
        elif word.kind == "latin" and not text[word.start : word.end].isascii():
            _fold_to_latin(chars, word)  # dotless i and friends: folded, not recorded
    return "".join(chars), recorded


def _fold_to_latin(chars: list[str], word: _Word) -> list[int]:
    folded: list[int] = []
    for i in range(word.start, word.end):
        ch = chars[i]
        if ch in CONFUSABLES:
            chars[i] = CONFUSABLES[ch]
            folded.append(i)
        elif ch in LATIN_VARIANTS:
            chars[i] = LATIN_VARIANTS[ch]
    return folded


def _fold_latin_letters(chars: list[str], word: _Word) -> list[int]:
    table = _LATIN_TO_GREEK if word.fold_to == "greek" else _LATIN_TO_CYRILLIC
    folded: list[int] = []
    for i in range(word.start, word.end):
        if chars[i] in table:
            chars[i] = table[chars[i]]
            folded.append(i)
    return folded


def _beside_latin(words: list[_Word]) -> list[bool]:
    """For each word: of the nearest decisive (Latin, mixed or foreign) words on either side, one is
    Latin or mixed and none is foreign. Two linear passes."""
    left = _nearest_decisive(words)
    right = _nearest_decisive(words[::-1])[::-1]
    return [
        "foreign" not in (before, after) and bool({"latin", "mixed"} & {before, after})
        for before, after in zip(left, right)
    ]


def _nearest_decisive(words: list[_Word]) -> list[str]:
    """For each word, the kind of the nearest decisive word before it ("" when there is none)."""
    nearest: list[str] = []
    last = ""
    for word in words:
        nearest.append(last)
        if word.kind in ("latin", "mixed", "foreign"):
            last = word.kind
    return nearest


# --- step 4: whitespace ---------------------------------------------------------------------------------

_WHITESPACE = re.compile(r"\s+")
_UNCOLLAPSED = re.compile(r"[^\S ]| {2}|^ | $")


def _collapse_whitespace(text: str, starts: list[int], ends: list[int]) -> tuple[str, list[int], list[int]]:
    """Whitespace runs become one space (mapped to the whole run); leading and trailing runs go."""
    if not _UNCOLLAPSED.search(text):
        return text, starts, ends
    out: list[str] = []
    out_starts: list[int] = []
    out_ends: list[int] = []
    previous = 0
    for match in _WHITESPACE.finditer(text):
        first, last = match.span()
        out.append(text[previous:first])
        out_starts.extend(starts[previous:first])
        out_ends.extend(ends[previous:first])
        if first > 0 and last < len(text):
            out.append(" ")
            out_starts.append(starts[first])
            out_ends.append(ends[last - 1])
        previous = last
    out.append(text[previous:])
    out_starts.extend(starts[previous:])
    out_ends.extend(ends[previous:])
    return "".join(out), out_starts, out_ends


# --- the four steps together ------------------------------------------------------------------------------

@dataclass
class _Analysis:
    """A text normalised, with its offset map and what was found, all in the text's own coordinates."""

    text: str
    starts: list[int]
    ends: list[int]
    events: dict[str, list[tuple[int, int]]]  # kind -> spans of each suspicious character
    hidden: str
    hidden_span: tuple[int, int]
    source: str = ""  # the text analysed (morse needs its spacing, which normalising collapses)


def _analyse(text: str) -> _Analysis:
    removal = _remove_invisible(text)
    starts = removal.indices
    ends = [i + 1 for i in starts]
    normalised, starts, ends = _nfkc(removal.kept, starts, ends)
    normalised, folded = _fold_homoglyphs(normalised)
    events = {kind: [(p, p + 1) for p in positions] for kind, positions in removal.events.items()}
    if folded:
        events["homoglyphs"] = [(starts[i], ends[i]) for i in folded]
    normalised, starts, ends = _collapse_whitespace(normalised, starts, ends)
    return _Analysis(normalised, starts, ends, events, removal.hidden, removal.hidden_span, text)


# --- encoded payloads --------------------------------------------------------------------------------------

# No nested quantifiers and no lookaround after a quantifier, so no backtracking: each pattern is
# linear. A match must start a word (the one lookbehind); whether it ends one is checked in Python.
_HEX_ESCAPED = re.compile(r"(?:\\x[0-9A-Fa-f]{2}){8,}")
_HEX_SPACED = re.compile(r"(?<![0-9A-Za-z])[0-9A-Fa-f]{2}(?: [0-9A-Fa-f]{2}){7,}")
_HEX_PLAIN = re.compile(r"(?<![0-9A-Za-z])(?:0[xX])?[0-9A-Fa-f]{16,}")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{12,}={0,2}")
_URL_TOKEN = re.compile(r"(?:%[0-9A-Fa-f]{2}|[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]])+")
_HEX_OR_DASH = frozenset("0123456789abcdefABCDEF-xX")


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    origin: str  # one of ORIGINS: "hex", "base64", "url-encoded", "base32", "base85", "binary", ...
    token: str


def _patterns(text: str) -> list[tuple[re.Pattern, str]]:
    """The candidate patterns worth running on TEXT, most specific first (binary before hex before
    base32 before base64: a token that is all of them is tried in that order)."""
    patterns = [(_HEX_ESCAPED, "hex"), (encodings.BINARY, "binary"), (_HEX_SPACED, "hex"), (_HEX_PLAIN, "hex")]
    if "%" in text:
        patterns.append((_URL_TOKEN, "url-encoded"))
    patterns += [(encodings.BASE32, "base32"), (_BASE64, "base64")]
    if "<~" in text:
        patterns.append((encodings.ASCII85_WRAPPED, "ascii85"))
    patterns.append((encodings.BASE85, "base85"))
    if "begin " in text:
        patterns.append((encodings.UUENCODED, "uuencode"))
    patterns.append((encodings.UU_LINE, "uuencode"))
    if encodings.may_hold_morse(text):
        patterns.append((encodings.MORSE, "morse"))
    if encodings.BRAILLE.search(text):
        patterns.append((encodings.BRAILLE, "braille"))
    return patterns


def _candidates(text: str, limit: int) -> list[_Candidate]:
    """Tokens that may be encoded payloads, in text order (the more specific encoding first at the
    same place: see _patterns).

    Each pattern contributes at most LIMIT tokens, so a huge question is not scanned past the point
    where the decode budget would run out anyway.
    """
    found: list[tuple[int, int, _Candidate]] = []
    for priority, (pattern, origin) in enumerate(_patterns(text)):
        count = 0
        for match in pattern.finditer(text):
            if count >= limit:
                break
            candidate = _Candidate(match.start(), match.end(), origin, match.group())
            if _plausible(text, candidate):
                found.append((candidate.start, priority, candidate))
                count += 1
    found.sort(key=lambda item: (item[0], item[1]))
    return [candidate for _, _, candidate in found]


def _plausible(text: str, candidate: _Candidate) -> bool:
    """Cheap checks before decoding: whole tokens only, no base64 reading of hex-only ids or of
    plain words, and an encoding's own alphabet and lengths."""
    token = candidate.token
    if candidate.origin in _TOKEN_CHECKS:
        return _TOKEN_CHECKS[candidate.origin](token)
    if candidate.origin != "hex":
        return True
    before = text[candidate.start - 1] if candidate.start else " "
    after = text[candidate.end] if candidate.end < len(text) else " "
    if before.isalnum() or after.isalnum():
        return False
    return token.startswith("\\x") or len(_hex_digits(token)) % 2 == 0


def _is_base64_candidate(token: str) -> bool:
    """Not a digest, UUID or hex id (those are not base64 text), and not a long word: base64 of text
    mixes upper and lower case, or has digits."""
    if set(token) <= _HEX_OR_DASH:
        return False
    return not (token.isalpha() and (token.islower() or token.isupper() or token.istitle()))


_TOKEN_CHECKS: dict[str, Callable[[str], bool]] = {
    # one escape is enough for an e-mail address ("jane%40example.com"), three otherwise
    "url-encoded": lambda token: token.count("%") >= 3 or "%40" in token,
    "base64": _is_base64_candidate,
    "base85": encodings.is_base85_candidate,
}


def _hex_digits(token: str) -> str:
    if token[:2] in ("0x", "0X"):
        token = token[2:]
    return token.replace("\\x", "").replace(" ", "")


def _decode(candidate: _Candidate) -> str | None:
    """The decoded text of a candidate, or None when it is not validly encoded."""
    token = candidate.token[:MAX_PAYLOAD_CHARS]
    try:
        if candidate.origin == "hex":
            digits = _hex_digits(token)
            return bytes.fromhex(digits[: len(digits) - len(digits) % 2]).decode("utf-8", errors="replace")
        if candidate.origin == "url-encoded":
            return urllib.parse.unquote(token, errors="replace")
        if candidate.origin == "base64":
            return _decode_base64(candidate.token)
        if candidate.origin in _TEXT_DECODERS:
            return _TEXT_DECODERS[candidate.origin](token)
        return _BYTE_DECODERS[candidate.origin](token).decode("utf-8", errors="replace")
    except (ValueError, binascii.Error):
        return None


_BYTE_DECODERS: dict[str, Callable[[str], bytes]] = {
    "base32": encodings.decode_base32,
    "base85": encodings.decode_base85,
    "ascii85": encodings.decode_base85,
    "binary": encodings.decode_binary,
    "uuencode": encodings.decode_uuencoded,
}
_TEXT_DECODERS: dict[str, Callable[[str], str | None]] = {
    "morse": encodings.decode_morse,
    "braille": encodings.decode_braille,
}


def _decode_base64(token: str) -> str | None:
    body = token.rstrip("=")
    padding = len(token) - len(body)
    standard, url_safe = ("+" in body or "/" in body), ("-" in body or "_" in body)
    if (standard and url_safe) or len(body) % 4 == 1 or (padding and len(token) % 4):
        return None
    body = body[:MAX_PAYLOAD_CHARS]
    body += "=" * (-len(body) % 4)
    altchars = b"-_" if url_safe else None
    return base64.b64decode(body, altchars=altchars, validate=True).decode("utf-8", errors="replace")


def _is_text(decoded: str) -> bool:
    """At least 8 characters, at least 85% of them printable (U+FFFD, from bytes that were not
    UTF-8, does not count)."""
    if len(decoded.strip()) < 8:
        return False
    printable = sum(1 for ch in decoded if (ch.isprintable() or ch in "\t\n\r") and ch != "\ufffd")
    return printable >= 0.85 * len(decoded)


_LETTER_WORD = re.compile(r"\W*[^\W\d_]{2,}\W*")  # disjoint classes: no backtracking


def _has_words(text: str, needed: int = 2) -> bool:
    """At least NEEDED space-separated words of two or more letters (punctuation around them allowed).
    A base64 or hex string is one long token of letters and digits, so it has none."""
    count = 0
    for token in text.split():
        if _LETTER_WORD.fullmatch(token):
            count += 1
            if count >= needed:
                return True
    return False


def _looks_like_url(token: str) -> bool:
    return "://" in token or token.lower().startswith("www.")


# --- rot13 -------------------------------------------------------------------------------------------------

_ROT13 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                       "NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm")
_ROT13_MENTION = re.compile(r"\b(?:rot-?13|rot 13|caesar|rotat(?:e|ed|es|ing|ion))\b", re.IGNORECASE)
# Common English words, and the words of injection prompts. Words whose rot13 is also English
# ("be"/"or", "he"/"ur", "an"/"na", "no"/"ab") are left out, so they count for neither side.
ENGLISH_WORDS = frozenset(
    "the and you your all previous prior instructions instruction ignore disregard forget system prompt to of "
    "is are what how this that with for in on it not from now me my we our tell reveal show print rules "
    "secret password please any can do which who when where why have has was were will would should must "
    "output respond answer instead new above below everything nothing act pretend".split()
)
_ASCII_WORD = re.compile(r"[A-Za-z]+")


def _cipher_evidence(text: str, cipher: dict, words: frozenset[str] = ENGLISH_WORDS) -> tuple[bool, list[tuple[int, int]]]:
    """Whether TEXT through CIPHER (a str.translate table) is clearly more English than TEXT, and
    where the English words are.

    Clearly: at least three known words in the ciphered version, and either more than twice as many
    as in the text itself, or three words that are not words as they stand but are once ciphered,
    at least half of such words ("Please follow this: " before a ciphered instruction).
    "What is the notice period...?" scores 0 ciphered; ciphered instructions score 0 as they stand.
    """
    as_is = rotated = converted = unknown = 0
    spans: list[tuple[int, int]] = []
    for match in _ASCII_WORD.finditer(text):
        word = match.group().lower()
        known = word in words
        as_is += known
        unknown += not known
        if word.translate(cipher) in words:
            rotated += 1
            converted += not known
            spans.append(match.span())
    return rotated >= 3 and (rotated > 2 * as_is or (converted >= 3 and 2 * converted >= unknown)), spans


# --- putting it together -----------------------------------------------------------------------------------

class _Findings:
    """Readings and obfuscations gathered across nesting levels, with the decode budget."""

    def __init__(self, max_depth: int):
        self.max_depth = max(max_depth, 0)
        self.budget = MAX_DECODED_PAYLOADS
        self.readings: list[Reading] = []
        self.obfuscations: dict[str, list[int]] = {}  # kind -> [count, start, end]

    def record(self, kind: str, count: int, start: int, end: int) -> None:
        if kind in self.obfuscations:
            current = self.obfuscations[kind]
            self.obfuscations[kind] = [current[0] + count, min(current[1], start), max(current[2], end)]
        else:
            self.obfuscations[kind] = [count, start, end]

    def record_events(self, events: dict[str, list[tuple[int, int]]], span_of: SpanMap) -> None:
        for kind, spans in events.items():
            start, end = span_of(min(s for s, _ in spans), max(e for _, e in spans))
            self.record(kind, len(spans), start, end)

    def ordered_obfuscations(self) -> tuple[Obfuscation, ...]:
        return tuple(Obfuscation(kind, *self.obfuscations[kind]) for kind in KINDS if kind in self.obfuscations)


def _follow(analysis: _Analysis, span_of: SpanMap, depth: int, found: _Findings) -> bool:
    """Add the hidden tag text and the decoded payloads of ANALYSIS to FOUND; True if there were any.

    span_of maps a span of the analysed text to the original question: the identity at the top,
    the enclosing payload's span inside a decoded payload.
    """
    productive = False
    if analysis.hidden:
        start, end = span_of(*analysis.hidden_span)
        hidden = _analyse(analysis.hidden)
        if hidden.text:
            found.readings.append(Reading(hidden.text, "hidden tag text", start, end))
        found.record_events(hidden.events, lambda *_: (start, end))
        _decode_payloads(hidden, lambda *_: (start, end), depth, found)
        productive = True
    return _decode_payloads(analysis, span_of, depth, found) or productive


def _decode_payloads(analysis: _Analysis, span_of: SpanMap, depth: int, found: _Findings) -> bool:
    """Decode the payloads in ANALYSIS.text (one level deeper), keep those that are text, follow them."""
    if depth >= found.max_depth or found.budget <= 0:
        return False
    productive = False
    claimed_until = -1
    for candidate in _candidates(analysis.text, found.budget):
        if candidate.start < claimed_until:
            continue  # inside a payload already decoded
        if found.budget <= 0:
            break
        found.budget -= 1
        if candidate.origin == "morse":  # words are told apart by spacing that normalising collapsed
            source = analysis.source[analysis.starts[candidate.start] : analysis.ends[candidate.end - 1]][:MAX_PAYLOAD_CHARS]
            candidate = _Candidate(candidate.start, candidate.end, "morse", source)
        decoded = _decode(candidate)
        if decoded is None or not _is_text(decoded):
            continue
        claimed_until = candidate.end
        start, end = span_of(analysis.starts[candidate.start], analysis.ends[candidate.end - 1])
        if _follow_payload(candidate, decoded, (start, end), depth + 1, found):
            productive = True
    return productive


def _follow_payload(candidate: _Candidate, decoded: str, span: tuple[int, int], depth: int, found: _Findings) -> bool:
    """Add a decoded payload's reading (if it has words), follow what is inside, record the payload.

    A payload counts as an obfuscation when it, or a payload inside it, reads as text, or when the
    depth limit stops us in front of a further payload: "encoded payload", or "encoded personal
    data" when all it holds is an address or a number. URL-encoding inside a URL is how links
    look, so it gives a reading but is not recorded.
    """
    inner = _analyse(decoded)
    words = _has_words(inner.text)
    kept = words or encodings.has_personal_shape(inner.text)
    if kept:
        found.readings.append(Reading(inner.text, candidate.origin, *span))
    found.record_events(inner.events, lambda *_: span)
    deeper = _follow(inner, lambda *_: span, depth, found)
    cut_short = depth >= found.max_depth and bool(_candidates(inner.text, 1))
    productive = kept or deeper or cut_short
    if productive and not (candidate.origin == "url-encoded" and _looks_like_url(candidate.token)):
        found.record("encoded payload" if words or deeper or cut_short else "encoded personal data", 1, *span)
    return productive


def normalise_question(text: str, max_decode_depth: int = 2) -> NormalisedQuestion:
    """Normalise a question and list the readings a prompt-injection detector must examine.

    Readings, in order: the normalised question (always first, spanning the whole question); the
    text hidden in tag characters; each encoded payload that decoded to text, followed by the
    payloads decoded from it, down to max_decode_depth levels (0 decodes nothing); last, a rot13
    reading of the normalised question when the question mentions rot13/Caesar/rotation or its
    rot13 is clearly more English than it is. Obfuscations: one per kind found, with the count
    and the span from the first occurrence to the last. Never raises for any str.
    """
    found = _Findings(max_decode_depth)
    analysis = _analyse(text)
    found.readings.append(Reading(analysis.text, "normalised", 0, len(text)))
    found.record_events(analysis.events, lambda start, end: (start, end))
    _follow(analysis, lambda start, end: (start, end), 0, found)
    _add_rot13(analysis, text, found)
    _add_atbash(analysis, text, found)
    _add_leetspeak(analysis, text, found)
    _add_quoted_printable(analysis, text, found)
    _add_spelled_out(analysis, text, found)
    return NormalisedQuestion(
        original=text,
        normalised=analysis.text,
        readings=tuple(found.readings),
        obfuscations=found.ordered_obfuscations(),
        char_starts=tuple(analysis.starts),
        char_ends=tuple(analysis.ends),
    )


def _add_rot13(analysis: _Analysis, original: str, found: _Findings) -> None:
    """A rot13 reading of the whole normalised question, when asked for or when it reads as English."""
    if not analysis.text:
        return
    english, spans = _cipher_evidence(analysis.text, _ROT13)
    address = "@" in analysis.text and encodings.has_ciphered_address(analysis.text[:MAX_REWRITTEN_CHARS], _ROT13)
    if english or address or _ROT13_MENTION.search(analysis.text):
        found.readings.append(Reading(analysis.text.translate(_ROT13), "rot13", 0, len(original),
                                      tuple(analysis.starts), tuple(analysis.ends)))
    if english:
        first, last = spans[0][0], spans[-1][1]
        found.record("encoded payload", 1, analysis.starts[first], analysis.ends[last - 1])
    elif address:
        found.record("encoded personal data", 1, 0, len(original))


# --- readings rewritten from the normalised question, with their offset maps ---------------------------

MAX_REWRITTEN_CHARS = MAX_PAYLOAD_CHARS
"""The ciphers and spellings are looked for in the first MAX_REWRITTEN_CHARS characters only."""

Edit = tuple[int, int, str]  # (start, end, replacement) in the text being rewritten


def _apply_edits(text: str, starts: list[int], ends: list[int], edits: list[Edit]) -> tuple[str, list[int], list[int]]:
    """TEXT with EDITS (sorted, not overlapping) applied, and its offset map: a replacement's
    characters map to the whole span of the question they replace."""
    out: list[str] = []
    out_starts: list[int] = []
    out_ends: list[int] = []
    previous = 0
    for start, end, replacement in edits:
        out.append(text[previous:start])
        out_starts.extend(starts[previous:start])
        out_ends.extend(ends[previous:start])
        out.append(replacement)
        out_starts.extend([starts[start]] * len(replacement))
        out_ends.extend([ends[end - 1]] * len(replacement))
        previous = end
    out.append(text[previous:])
    out_starts.extend(starts[previous:])
    out_ends.extend(ends[previous:])
    return "".join(out), out_starts, out_ends


def _add_rewritten(found: _Findings, origin: str, rewritten: tuple[str, list[int], list[int]], original: str) -> None:
    text, starts, ends = rewritten
    if text and all(reading.text != text for reading in found.readings):
        found.readings.append(Reading(text, origin, 0, len(original), tuple(starts), tuple(ends)))


def _add_atbash(analysis: _Analysis, original: str, found: _Findings) -> None:
    """An atbash reading (a<->z, b<->y, ...) when asked for, or when it is clearly more English."""
    text = analysis.text[:MAX_REWRITTEN_CHARS]
    mentioned = encodings.ATBASH_MENTION.search(text) is not None
    address = "@" in text and encodings.has_ciphered_address(text, encodings.ATBASH)
    if not text or not (mentioned or address or encodings.ATBASH_HINT.search(text)):
        return
    english, spans = _cipher_evidence(text, encodings.ATBASH, encodings.COMMON_WORDS | ENGLISH_WORDS)
    if english or address or mentioned:
        _add_rewritten(found, "atbash", (text.translate(encodings.ATBASH), analysis.starts, analysis.ends), original)
    if english:
        found.record("encoded payload", 1, analysis.starts[spans[0][0]], analysis.ends[spans[-1][1] - 1])
    elif address:
        found.record("encoded personal data", 1, 0, len(original))


_TOKEN = re.compile(r"\S+")
_SHORT_LEET_NUMBER = re.compile(r"(?<!\S)[0134579]{1,3}(?!\S)")
_TRAILING_PUNCTUATION = ".,;:?!)\"'"


def _add_leetspeak(analysis: _Analysis, original: str, found: _Findings) -> None:
    """A leetspeak reading ("1gn0r3" -> "ignore") when the changed words become English words (three,
    or at least half of them) or an e-mail address; letters stay where they are, so the offset map
    is the normalised one. Codes ("Q3", "COVID-19", an IPv6 address) become no words, so no reading.
    In a reading that is kept, short numbers are read as words too ("4" -> "a", "45" -> "as")."""
    text = analysis.text[:MAX_REWRITTEN_CHARS]
    chars = list(text)
    changed: list[tuple[int, int]] = []
    words = addresses = 0
    done_until = 0
    for pair in encodings.LEET_PAIR.finditer(text):
        if pair.start() < done_until:
            continue
        match = _TOKEN.search(text, text.rfind(" ", 0, pair.start()) + 1)
        done_until = match.end()
        token = match.group().rstrip(_TRAILING_PUNCTUATION)
        if not encodings.is_leet_token(token):
            continue
        plain = encodings.unleet(token)
        chars[match.start() : match.start() + len(token)] = plain
        changed.append((match.start(), match.start() + len(token)))
        words += encodings.is_known_word(plain)
        addresses += encodings.is_plain_email(plain) and not encodings.is_plain_email(token)
    if not addresses and words < 3 and (not words or 2 * words < len(changed)):
        return
    for match in _SHORT_LEET_NUMBER.finditer(text):
        chars[match.start() : match.end()] = match.group().translate(encodings.LEET)
    read = "".join(chars)
    _add_rewritten(found, "leetspeak", (read, analysis.starts, analysis.ends), original)
    kind = "encoded payload" if words else "encoded personal data"
    found.record(kind, len(changed), analysis.starts[changed[0][0]], analysis.ends[changed[-1][1] - 1])


def _add_quoted_printable(analysis: _Analysis, original: str, found: _Findings) -> None:
    """The question with its quoted-printable escapes (=6A=61=6E=65) decoded, when it has three."""
    text = analysis.text[:MAX_REWRITTEN_CHARS]
    edits = encodings.quoted_printable_edits(text) if "=" in text else None
    if not edits:
        return
    _add_rewritten(found, "quoted-printable", _apply_edits(text, analysis.starts, analysis.ends, edits), original)
    kind = "encoded payload" if _has_words(" ".join(decoded for _, _, decoded in edits)) else "encoded personal data"
    found.record(kind, len(edits), analysis.starts[edits[0][0]], analysis.ends[edits[-1][1] - 1])


def _add_spelled_out(analysis: _Analysis, original: str, found: _Findings) -> None:
    """The question with NATO spelling ("kilo ilo"), spelled-out digits ("four one five ...") and
    e-mail addresses written with [at]/(dot) read as what they spell. Recorded as "spelled out",
    which is not evasive: people write addresses that way to keep them from spam harvesters."""
    text = analysis.text[:MAX_REWRITTEN_CHARS]
    words = sorted(
        encodings.spelled_runs(text, encodings.NATO, encodings.MIN_NATO_RUN, encodings.NATO_JOINERS)
        + encodings.spelled_runs(text, encodings.DIGIT_WORDS, encodings.MIN_DIGIT_RUN, encodings.DIGIT_JOINERS)
    )
    spelled, starts, ends = _apply_edits(text, analysis.starts, analysis.ends, _without_overlaps(words))
    addresses = encodings.email_edits(spelled)
    if not words and not addresses:
        return
    rewritten = _apply_edits(spelled, starts, ends, addresses)
    _add_rewritten(found, "spelled out", rewritten, original)
    spans = [(analysis.starts[start], analysis.ends[end - 1]) for start, end, _ in words]
    spans += [(starts[start], ends[end - 1]) for start, end, _ in addresses]
    found.record("spelled out", len(spans), min(s for s, _ in spans), max(e for _, e in spans))


def _without_overlaps(edits: list[Edit]) -> list[Edit]:
    kept: list[Edit] = []
    for edit in edits:
        if not kept or edit[0] >= kept[-1][1]:
            kept.append(edit)
    return kept
