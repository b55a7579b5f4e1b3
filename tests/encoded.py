"""Personal data and instructions written in every encoding an attacker (or a careful analyst) uses.

    encode("base64", "jane.doe@example.com")  -> "amFuZS5kb2VAZXhhbXBsZS5jb20="

Each encoder is written from its standard (the stdlib codecs where there is one), not from the
decoders in guardrails/encodings.py, so a test fails when a decoder reads an encoding wrongly.
"""
import base64
import codecs

_MORSE = {
    "a": ".-", "b": "-...", "c": "-.-.", "d": "-..", "e": ".", "f": "..-.", "g": "--.", "h": "....", "i": "..",
    "j": ".---", "k": "-.-", "l": ".-..", "m": "--", "n": "-.", "o": "---", "p": ".--.", "q": "--.-", "r": ".-.",
    "s": "...", "t": "-", "u": "..-", "v": "...-", "w": ".--", "x": "-..-", "y": "-.--", "z": "--..",
    "0": "-----", "1": ".----", "2": "..---", "3": "...--", "4": "....-", "5": ".....", "6": "-....", "7": "--...",
    "8": "---..", "9": "----.", ".": ".-.-.-", "@": ".--.-.", "-": "-....-", "+": ".-.-.",
}
_BRAILLE_LETTERS = dict(zip("abcdefghijklmnopqrstuvwxyz", "⠁⠃⠉⠙⠑⠋⠛⠓⠊⠚⠅⠇⠍⠝⠕⠏⠟⠗⠎⠞⠥⠧⠺⠭⠽⠵"))
_BRAILLE_DIGITS = dict(zip("1234567890", "⠁⠃⠉⠙⠑⠋⠛⠓⠊⠚"))
_BRAILLE_MARKS = {"@": "⠈⠁", ".": "⠲", "-": "⠤", " ": "⠀"}
_NATO = dict(zip("abcdefghijklmnopqrstuvwxyz", (
    "alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike november oscar papa quebec "
    "romeo sierra tango uniform victor whiskey xray yankee zulu").split()))
_DIGITS = "zero one two three four five six seven eight nine".split()
_SPELLED_MARKS = {"@": "at", ".": "dot", "-": "dash", "+": "plus"}


def _morse(text: str) -> str:
    return " / ".join(" ".join(_MORSE[ch] for ch in word) for word in text.lower().split())


def _braille(text: str) -> str:
    cells, number = [], False
    for ch in text.lower():
        if ch.isdigit():
            cells.append(_BRAILLE_DIGITS[ch] if number else "⠼" + _BRAILLE_DIGITS[ch])
            number = True
        else:
            cells.append(_BRAILLE_LETTERS.get(ch) or _BRAILLE_MARKS.get(ch, "⠀"))
            number = number and ch == "."
    return "".join(cells)


def _spelled(text: str) -> str:
    words = []
    for ch in text.lower():
        if ch.isdigit():
            words.append(_DIGITS[int(ch)])
        elif ch in _NATO or ch in _SPELLED_MARKS:
            words.append(_NATO.get(ch) or _SPELLED_MARKS[ch])
    return " ".join(words)


ENCODERS = {
    "base16": lambda text: base64.b16encode(text.encode()).decode(),
    "base32": lambda text: base64.b32encode(text.encode()).decode(),
    "base64": lambda text: base64.b64encode(text.encode()).decode(),
    "base85": lambda text: base64.b85encode(text.encode()).decode(),
    "ascii85": lambda text: base64.a85encode(text.encode(), adobe=True).decode(),
    "uuencode": lambda text: codecs.encode(text.encode(), "uu").decode(),
    "quoted-printable": lambda text: "".join(f"={byte:02X}" for byte in text.encode()),
    "%-encoding": lambda text: "".join(f"%{byte:02X}" for byte in text.encode()),
    "binary": lambda text: " ".join(format(byte, "08b") for byte in text.encode()),
    "morse": _morse,
    "braille": _braille,
    "NATO and spelled-out digits": _spelled,
    "[at] and [dot]": lambda text: text.replace("@", " [at] ").replace(".", " [dot] "),
    "leetspeak": lambda text: text.translate(str.maketrans("aeo", "430")),
    "rot13": lambda text: codecs.encode(text, "rot13"),
    "atbash": lambda text: text.translate(str.maketrans("abcdefghijklmnopqrstuvwxyz", "zyxwvutsrqponmlkjihgfedcba")),
}

# (value, entity type Presidio reports, what the default policy does with it)
PERSONAL_DATA = {
    "e-mail address": ("jane.doe@example.com", "EMAIL_ADDRESS", "sensitive"),
    "phone number": ("+1 415 555 0123", "PHONE_NUMBER", "sensitive"),
    "SSN": ("536-22-8174", "US_SSN", "block"),
}
# Letter ciphers leave digits as they are: a phone number or SSN in rot13 is the number itself.
LETTERS_ONLY = ("leetspeak", "rot13", "atbash", "[at] and [dot]")


def encode(encoding: str, text: str) -> str:
    return ENCODERS[encoding](text)


def cases() -> list[tuple[str, str]]:
    """(encoding, kind of personal data) pairs where the encoding changes the value."""
    return [(encoding, kind) for encoding in ENCODERS for kind in PERSONAL_DATA
            if not (encoding in LETTERS_ONLY and kind != "e-mail address")]
