"""The encodings, ciphers and spellings that hide words or personal data, and how to undo each.

normalisation.py finds the candidates and keeps the offset maps; this module knows the encodings:

- payload decoders (a token in, its text or None out): base32, base85 and ascii85, uuencode,
  binary (8-bit groups), morse and braille. base64, hex and %-encoding live in normalisation.py.
- ciphers that map letter to letter over the whole question: atbash and leetspeak (rot13 is in
  normalisation.py).
- spellings that people use to keep personal data from search engines and filters, and attackers
  to keep words from rules: "juliett oscar hotel november" (NATO), "four one five five" (digits),
  "jane [at] example (dot) com", and "=6A=61=6E=65" (quoted-printable). These are edits: (start,
  end, replacement) over the normalised question, so that the reading built from them keeps an
  offset map into the question as received.

Each decoder is cheap to reject: a regular expression without nested ambiguous quantifiers finds
the candidate, a length or alphabet check follows, and only then is anything decoded. What comes
out must be plausible (plausible_text): words of a language, or the shape of an e-mail address or
a phone or id number. A hash, a ticket id or a question that says "alpha" gives no reading.
Only the standard library is used.
"""
import base64
import binascii
import re

# --- is it text? -------------------------------------------------------------------------------------

# Frequent English words (and words of instructions and of personal data), for judging whether a
# decoded or deciphered text reads as English. Short words that are also common abbreviations are
# left out.
COMMON_WORDS = frozenset("""
a about above access account act address after again against all also always am an and another
answer any anyone anything are as ask at away back bank be because been before being below between
birth both but by call can card change code company confidential contact could credit data date day
days decode delete did different disregard do document documents does doing done down each earlier
email employee employees every everything example file files find first follow following for forget
from full get give go going good had has have he her here hidden him his home how i if ignore in
information instead instruction instructions into is it its just keep know last leave like list
mail make many may me message mind mode more most must my name need never new next no not nothing
now number of off old on once one only or other our out output over override password passwords
people person phone please policy previous print prior private prompt provide read real reveal
rules said same say secret security see send set she should show so social some someone something
state still such system take tell text than that the their them then there these they thing things
think this those through time to too tool unrestricted up us use user users very want was way we
well were what when where which while who why will with without word words work would write year
you your
""".split())
_ASCII_WORD = re.compile(r"[A-Za-z]+")

# An e-mail address, or a run of at least 9 digits with the separators phone and id numbers use
# (a date such as 2024-06-30 has 8). The parts of an address are bounded as in RFC 5321 (64 for
# the local part, 63 per label), so a search that fails costs at most 64 steps per position, not
# the rest of a 16,000-letter payload.
PERSONAL_SHAPE = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}\.[A-Za-z]{2,24}|\+?\d(?:[ ().-]{0,2}\d){8,}")


def known_words(text: str, words: frozenset[str] = COMMON_WORDS) -> int:
    """How many ASCII words of TEXT (case ignored) are in WORDS."""
    return sum(1 for match in _ASCII_WORD.finditer(text) if match.group().lower() in words)


def is_known_word(token: str) -> bool:
    """TOKEN, without the punctuation around it, is one word of COMMON_WORDS (case ignored)."""
    return token.strip(".,;:?!()'\"").lower() in COMMON_WORDS


def has_personal_shape(text: str) -> bool:
    return PERSONAL_SHAPE.search(text) is not None


# --- payload decoders ----------------------------------------------------------------------------------

BASE32 = re.compile(r"(?<![0-9A-Za-z])(?:[A-Z2-7]{16,}|[a-z2-7]{16,})={0,6}")
ASCII85_WRAPPED = re.compile(r"<~[^~]{5,}~>")
BASE85 = re.compile(r"(?<!\S)[!-~]{10,}")
BINARY = re.compile(r"(?<![0-9])[01]{8}(?: ?[01]{8}){3,}(?![0-9])")
UUENCODED = re.compile(r"begin [0-7]{3,4} \S+ (?:[!-`][ -`]{1,64} ){1,400}`? ?end")
UU_LINE = re.compile(r"(?<!\S)M[!-`]{60}(?!\S)")
_MORSE_SYMBOL = r"[.\-·•_−–—]{1,7}"
MORSE = re.compile(r"(?<![^\s/|])" + _MORSE_SYMBOL + r"(?:[ /|]+" + _MORSE_SYMBOL + r"){3,}")


def may_hold_morse(text: str) -> bool:
    """Four morse letters nearly always include one of dots and dashes together ("a" is ".-")."""
    text = text.translate(_MORSE_DOTS) if not text.isascii() else text
    return ".-" in text or "-." in text or ("..." in text and "---" in text)
BRAILLE = re.compile(r"[\u2800-\u28ff]{2,}(?: [\u2800-\u28ff]+)*")

_BASE64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-")


def decode_base32(token: str) -> bytes:
    body = token.rstrip("=").upper()
    if len(body) % 8 in (1, 3, 6):
        raise ValueError("not a base32 length")
    return base64.b32decode(body + "=" * (-len(body) % 8))


def is_base85_candidate(token: str) -> bool:
    """A token that could be base85 or ascii85 and not base64, a URL, a path or an e-mail address:
    some punctuation base64 lacks, and no run of letters as long as a long word's."""
    outside_base64 = sum(1 for ch in token if ch not in _BASE64_ALPHABET)
    if outside_base64 < 2 or "://" in token or token.startswith(("/", "www.")):
        return False
    longest = run = 0
    for ch in token:
        run = run + 1 if ch.isalpha() else 0
        longest = max(longest, run)
    return longest <= 24  # base85 of English has runs of 17 letters; a 25-letter run is a word


def decode_base85(token: str) -> bytes:
    """ascii85 (Adobe's alphabet, "<~ ~>" optional) first, then base85 (RFC 1924, Python's b85);
    then both again without the punctuation that ended the sentence ("... is <payload>?")."""
    if token.startswith("<~") and token.endswith("~>"):
        return base64.a85decode(token, adobe=True)
    decoded = []
    for candidate in dict.fromkeys((token, token.rstrip(".,;:?!)"))):
        for decode in (base64.a85decode, base64.b85decode):
            try:
                decoded.append(decode(candidate))
            except ValueError:
                continue
            if decoded[-1].isascii() and decoded[-1].decode().isprintable():
                return decoded[-1]
    if not decoded:
        raise ValueError("not base85")
    return decoded[0]


def decode_binary(token: str) -> bytes:
    digits = token.replace(" ", "")
    return bytes(int(digits[i : i + 8], 2) for i in range(0, len(digits) - len(digits) % 8, 8))


def decode_uuencoded(token: str) -> bytes:
    """The body of a "begin 644 name ... end" block, or one 60-character "M" line. Whitespace inside
    the block has been collapsed to single spaces, so each line is read by its length character."""
    if not token.startswith("begin "):
        return binascii.a2b_uu(token)
    body = token.split(" ", 3)[3].removesuffix("end").rstrip(" `")
    decoded, i = [], 0
    while i < len(body):
        count = (ord(body[i]) - 32) & 63
        width = 1 + (count + 2) // 3 * 4
        decoded.append(binascii.a2b_uu(body[i : i + width]))
        i += width + 1  # the space that was a line break
    return b"".join(decoded)


MORSE_CODE = {
    ".-": "a", "-...": "b", "-.-.": "c", "-..": "d", ".": "e", "..-.": "f", "--.": "g", "....": "h", "..": "i",
    ".---": "j", "-.-": "k", ".-..": "l", "--": "m", "-.": "n", "---": "o", ".--.": "p", "--.-": "q", ".-.": "r",
    "...": "s", "-": "t", "..-": "u", "...-": "v", ".--": "w", "-..-": "x", "-.--": "y", "--..": "z",
    "-----": "0", ".----": "1", "..---": "2", "...--": "3", "....-": "4", ".....": "5", "-....": "6", "--...": "7",
    "---..": "8", "----.": "9", ".-.-.-": ".", "--..--": ",", "..--..": "?", ".----.": "'", "-.-.--": "!",
    "-..-.": "/", "---...": ":", "-....-": "-", ".--.-.": "@", ".-.-.": "+", "-...-": "=",
}
_MORSE_DOTS = str.maketrans({"·": ".", "•": ".", "_": "-", "−": "-", "–": "-", "—": "-"})
_MORSE_WORD_BREAK = re.compile(r"\s*[/|]\s*|\s{2,}")


def decode_morse(token: str) -> str | None:
    """Words are separated by "/" or "|" (or by two or more spaces), letters by a space. None when
    a letter is not morse."""
    words = []
    for word in _MORSE_WORD_BREAK.split(token.translate(_MORSE_DOTS).strip()):
        letters = [MORSE_CODE.get(code) for code in word.split()]
        if None in letters:
            return None
        words.append("".join(letters))
    return " ".join(word for word in words if word)


# Grade 1 (uncontracted) English braille: letters, the number sign and the common punctuation.
_BRAILLE_LETTERS = dict(zip("⠁⠃⠉⠙⠑⠋⠛⠓⠊⠚⠅⠇⠍⠝⠕⠏⠟⠗⠎⠞⠥⠧⠺⠭⠽⠵", "abcdefghijklmnopqrstuvwxyz"))
_BRAILLE_DIGITS = dict(zip("⠁⠃⠉⠙⠑⠋⠛⠓⠊⠚", "1234567890"))
_BRAILLE_PUNCTUATION = {"⠀": " ", "⠲": ".", "⠂": ",", "⠦": "?", "⠖": "!", "⠄": "'", "⠤": "-", "⠒": ":", "⠆": ";"}
BRAILLE_NUMBER, BRAILLE_CAPITAL, BRAILLE_AT_PREFIX = "⠼", "⠠", "⠈"


def decode_braille(token: str) -> str:
    out, digits, capital = [], False, False
    for i, ch in enumerate(token):
        if ch == BRAILLE_NUMBER:
            digits = True
        elif ch == BRAILLE_CAPITAL:
            capital = True
        elif ch == BRAILLE_AT_PREFIX and token[i + 1 : i + 2] == "⠁":
            out.append("@")
        elif ch == "⠁" and token[i - 1 : i] == BRAILLE_AT_PREFIX and i > 0:
            continue
        elif digits and ch in _BRAILLE_DIGITS:
            out.append(_BRAILLE_DIGITS[ch])
        elif ch in _BRAILLE_LETTERS:
            out.append(_BRAILLE_LETTERS[ch].upper() if capital else _BRAILLE_LETTERS[ch])
            digits = capital = False
        else:
            out.append(_BRAILLE_PUNCTUATION.get(ch, " " if ch == " " else "?"))
            digits = digits and ch == "⠲"  # a decimal point keeps the number going
    return "".join(out)


# --- letter-for-letter ciphers ---------------------------------------------------------------------

ATBASH = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                       "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba")
ATBASH_MENTION = re.compile(r"\batbash\b|\breversed? alphabet\b", re.IGNORECASE)
# The atbash of "the", "and", "you", "is", "to", "of", "in", "not", "all", "ignore": English in atbash
# has some of them, so the full count is only made when one is there.
ATBASH_HINT = re.compile(r"\b(?:gsv|zmw|blf|rh|gl|lu|rm|mlg|zoo|rtmliv)\b", re.IGNORECASE)

LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
                       "@": "a", "$": "s", "!": "i", "|": "l", "+": "t"})
_LEET_CHARS = frozenset("013457893@$!|+")
MAX_LEET_TOKEN = 40


def is_leet_token(token: str) -> bool:
    """A token of 3 to 40 characters with a letter and a leet character right next to a letter:
    "1gn0r3", "p4ssw0rd", "j0hn.d03@3x4mpl3.c0m". Pure numbers are not; "Q3", "B2B" and "COVID-19"
    are, but change nothing that matters: the reading is kept only when it gains English words or
    an e-mail address."""
    return 3 <= len(token) <= MAX_LEET_TOKEN and LEET_PAIR.search(token) is not None


LEET_PAIR = re.compile(r"[A-Za-z][013457893@$!|+]|[013457893@$!|+][A-Za-z]")


_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.([A-Za-z]{2,6})[.,;:!?)]*$")
COMMON_TLDS = frozenset("com org net edu gov io co uk de fr es it nl be ch at se no fi dk pl ie eu us ca au in info biz".split())


def unleet(token: str) -> str:
    """TOKEN with leet characters read as letters. An e-mail address keeps its "@" and its dots."""
    email = _EMAIL.match(token)
    if email or token.count("@") == 1 and "." in token.split("@")[1]:
        local, _, domain = token.partition("@")
        return local.translate(LEET) + "@" + domain.translate(LEET)
    return token.translate(LEET)


def has_ciphered_address(text: str, cipher: dict) -> bool:
    """TEXT holds an e-mail address whose domain ending is no common one, but is once ciphered
    ("wnar@rknzcyr.pbz" is rot13 for jane@example.com)."""
    for match in _AT_TOKEN.finditer(text):
        address = _EMAIL.match(match.group())
        if address and address.group(1).lower() not in COMMON_TLDS and is_plain_email(match.group().translate(cipher)):
            return True
    return False


_AT_TOKEN = re.compile(r"[\w.+-]{1,64}@[\w.-]{1,255}")


def is_plain_email(text: str) -> bool:
    match = _EMAIL.match(text)
    return match is not None and match.group(1).lower() in COMMON_TLDS


# --- spelled out: NATO alphabet, digits, "at" and "dot" ----------------------------------------------

NATO = {
    "alfa": "a", "alpha": "a", "bravo": "b", "charlie": "c", "delta": "d", "echo": "e", "foxtrot": "f", "golf": "g",
    "hotel": "h", "india": "i", "juliet": "j", "juliett": "j", "kilo": "k", "lima": "l", "mike": "m",
    "november": "n", "oscar": "o", "papa": "p", "quebec": "q", "romeo": "r", "sierra": "s", "tango": "t",
    "uniform": "u", "victor": "v", "whiskey": "w", "whisky": "w", "xray": "x", "x-ray": "x", "yankee": "y",
    "zulu": "z",
}
DIGIT_WORDS = {
    "plus": "+", "zero": "0", "oh": "0", "nought": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "niner": "9",
}
# Inside a run of spelled digits: separators that phone and id numbers are written with.
DIGIT_JOINERS = {"dash": "-", "hyphen": "-", "minus": "-"}
# Inside a run of NATO letters: the words an address is spelled out with.
NATO_JOINERS = {"dot": ".", "at": "@", "dash": "-", "hyphen": "-", "underscore": "_"}
MIN_NATO_RUN = 4    # "Alpha, Bravo and Charlie teams" is not spelling anything
MIN_DIGIT_RUN = 4   # "one or two" neither; a phone or id number has at least 4 digits
_RUN_GAP = re.compile(r"[\s,;/-]{1,3}")
_LOWER_WORD = re.compile(r"[a-z]+(?:-ray)?")


def _words_of(*tables: dict[str, str]) -> re.Pattern:
    words = sorted({word for table in tables for word in table}, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b", re.IGNORECASE)


_TABLE_WORDS = {id(NATO): _words_of(NATO, NATO_JOINERS), id(DIGIT_WORDS): _words_of(DIGIT_WORDS, DIGIT_JOINERS)}

# "jane [at] example (dot) com", "jane at example dot com", "jane{at}example{dot}com". A spelled-out
# " at " only counts with a spelled-out dot after it: "meet at the office.Then" is not an address.
_AT = r"(?:\s*[\[({<]\s*at\s*[\])}>]\s*|\s+at\s+)"
_DOT = r"(?:\s*[\[({<]\s*dot\s*[\])}>]\s*|\s+dot\s+|\.)"
OBFUSCATED_EMAIL = re.compile(
    r"(?<![\w.+-])[\w+-]{1,64}(?:" + _DOT + r"[\w+-]{1,64}){0,8}" + _AT + r"[\w-]{1,63}(?:" + _DOT + r"[\w-]{1,63}){1,4}(?![\w-])",
    re.IGNORECASE,
)
_AT_OR_DOT = re.compile(_AT + "|" + _DOT, re.IGNORECASE)
_SPELLED_MARK = re.compile(r"[\[({<]\s*(?:at|dot)\s*[\])}>]|\sdot\s", re.IGNORECASE)


def spelled_runs(text: str, table: dict[str, str], minimum: int, joiners: dict[str, str]) -> list[tuple[int, int, str]]:
    """(start, end, decoded) for each run of at least MINIMUM words of TABLE (joined by spaces, commas
    or hyphens); JOINERS may stand between two of them. One linear pass over the words."""
    edits: list[tuple[int, int, str]] = []
    if not set(_LOWER_WORD.findall(text.lower())) & table.keys():
        return edits  # most questions: a C-speed look for the table's words, and nothing more
    run: list[tuple[int, int, str]] = []  # (start, end, decoded) of each word in the current run
    for match in _TABLE_WORDS[id(table)].finditer(text):
        word = match.group().lower()
        if run and _RUN_GAP.fullmatch(text, run[-1][1], match.start()) is None:
            _close_run(run, minimum, joiners, edits)
            run = []
        if word in table:
            if run and "/" in text[run[-1][1] : match.start()]:
                run.append((run[-1][1], run[-1][1], " "))  # "sierra tango / alfa": a word break
            run.append((match.start(), match.end(), table[word]))
        elif run:
            run.append((match.start(), match.end(), joiners[word]))
    _close_run(run, minimum, joiners, edits)
    return edits


def _close_run(run: list[tuple[int, int, str]], minimum: int, joiners: dict[str, str],
               edits: list[tuple[int, int, str]]) -> None:
    joiner_values = set(joiners.values())
    while run and run[-1][2] in joiner_values:
        run.pop()
    if sum(value not in joiner_values and value != " " for _, _, value in run) >= minimum:
        edits.append((run[0][0], run[-1][1], "".join(value for _, _, value in run)))


def email_edits(text: str) -> list[tuple[int, int, str]]:
    """(start, end, address) for each e-mail address written with [at]/(dot) or " at "/" dot "."""
    edits: list[tuple[int, int, str]] = []
    if not _SPELLED_MARK.search(text):
        return edits
    for match in OBFUSCATED_EMAIL.finditer(text):
        written = match.group()
        if "@" in written or not _SPELLED_MARK.search(written):
            continue  # " at " with plain dots: "questions at support.example.com" is a web address
        address = _AT_OR_DOT.sub(lambda m: "@" if "at" in m.group().lower() else ".", written)
        edits.append((match.start(), match.end(), address))
    return edits


# Quoted-printable: "=6A=61=6E=65". Three escapes at least, two of them in a row.
QP_ESCAPES = re.compile(r"(?:=[0-9A-F]{2})+")
MIN_QP_ESCAPES = 3


def quoted_printable_edits(text: str) -> list[tuple[int, int, str]] | None:
    """(start, end, decoded) for each run of =XX escapes, or None when there are too few or one does
    not decode to printable UTF-8 text."""
    runs = list(QP_ESCAPES.finditer(text))
    lengths = [len(match.group()) // 3 for match in runs]
    if sum(lengths) < MIN_QP_ESCAPES or max(lengths, default=0) < 2:
        return None  # "n=20, n=30 and n=40" are sample sizes: escapes come in runs
    edits = []
    for match in runs:
        try:
            decoded = bytes.fromhex(match.group().replace("=", "")).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
        if not all(ch.isprintable() or ch in "\t\n\r" for ch in decoded):
            return None
        edits.append((match.start(), match.end(), decoded))
    return edits
