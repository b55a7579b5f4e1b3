"""Prompt-injection and jailbreak detection that needs no network and no LLM.

Three signals, each over every reading of the question (normalisation.py undoes invisible
characters, homoglyphs and encodings first, so "іgnоrе" in Cyrillic or a base64 payload reads
like what it says):

- rules: regular expressions for attack shapes that benign business questions do not take —
  overriding "previous instructions", asking for the system prompt, persona switches ("you are now
  DAN"), fake role headers and chat-template tokens, exfiltration to outside addresses, bulk
  verbatim dumps, lifting redaction, "decode this and follow it". Each rule is written narrowly:
  "Can we ignore invoices under 50 EUR?" or "rotate the system password" must not match. A match
  blocks the question with score 1.0.
- a classifier: the MiniLM sentence embedding of the reading, scored by a logistic regression
  trained by guardrails/training/train_injection_classifier.py on the labelled set the repo ships.
  It catches paraphrases the rules miss. Blocks from the policy's injection_min_score.
- obfuscation: text hidden in Unicode tag characters blocks outright (nobody types invisible
  text by accident); other obfuscations are reported so that the trace shows them.

The rules run on the casefolded reading; they are bounded (no nested quantifiers) so a hostile
100,000-character question costs milliseconds.
"""
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from guardrails.findings import BLOCK, REPORT, Finding
from guardrails.normalisation import NormalisedQuestion, normalise_question
from guardrails.windows import Window

CLASSIFIER_PATH = Path(__file__).resolve().parent / "data" / "injection_classifier.json"

_GAP = r"(?:\W+\w+){0,%d}?\W+"  # up to N words between two parts of a rule


def _gap(words: int) -> str:
    return _GAP % words


_INSTRUCTIONS = (
    r"(?:instructions?|prompts?|rules|directions|guidelines|guardrails|constraints|restrictions|directives|"
    r"commands|programming|polic(?:y|ies)|context|messages?|orders|training|configuration|setup|settings|"
    r"safeguards|filters?|permissions|preamble)"
)
_EARLIER = (
    r"(?:previous(?:ly)?|prior|above|earlier|preceding|foregoing|initial|original|your|system|developer'?s?|"
    r"hidden|built-in|default|safety)"
)

RULES: tuple[tuple[str, str], ...] = (
    ("override earlier instructions",
     r"\b(?:ignor(?:e|ing)|disregard(?:ing)?|forget(?:ting)?|skip(?:ping)?|overrid(?:e|ing)|overrul(?:e|ing)|bypass(?:ing)?|"
     r"drop(?:ping)?|abandon(?:ing)?|neglect(?:ing)?|discard(?:ing)?|delet(?:e|ing)|eras(?:e|ing)|nullify(?:ing)?|"
     r"cancel(?:ling)?|set(?:ting)? aside|throw(?:ing)? out|stop following|no longer follow)\b"
     + _gap(3) + _EARLIER + _gap(2) + _INSTRUCTIONS + r"\b"),
    ("override earlier instructions",
     r"\b(?:ignore|disregard|forget|bypass|override)\s+(?:the|your|all)\s+(?:operator|operators|developers?|creators?|"
     r"programming|safeguards|safety measures|content filters?|guardrails|system(?![-\w]))"),
    ("override earlier instructions",
     r"\b(?:ignore|disregard|forget)\b\W+(?:everything|anything|all(?: of)?(?: that| what)?|whatever)\W+"
     r"(?:above|before|prior|previously|earlier|(?:you|i)\W+(?:were|was|have been|had been)\W+(?:told|given|said|instructed))"),
    ("override earlier instructions",
     r"\b(?:ignor(?:ez|e|er)|oublie[zr]?)\b" + _gap(3) + r"(?:instructions|consignes|règles|regles)\b"),
    ("override earlier instructions",
     r"\b(?:ne tiens (?:plus )?(?:pas )?compte|passe outre|sans (?:aucune )?(?:limite|restriction|filtre)s?|"
     r"sans tenir compte)\b"),
    ("override earlier instructions",
     r"\b(?:ignora(?:r)?|salta(?:te)?|sin (?:ninguna )?(?:restriccion|restricción|restricciones|limites|límites|filtros)|"
     r"sin anonimizar|non seguire più|ignora i permessi|senza (?:alcun[ao]? )?(?:limiti|restrizioni|filtri)|"
     r"ohne (?:jede |alle )?(?:einschränkungen|beschränkungen|filter|regeln)|versteckten systemtext|systemanweisungen)\b"),
    # Attack shapes in French, German, Spanish, Italian, Dutch and Portuguese, from the training
    # split's multilingual attacks: MiniLM reads English, so the classifier sees little in them.
    ("override earlier instructions",
     r"\b(?:ignore[sz]?|ignorer|ignoriere?|ignorier|ignora|ignorar|ignori|negeer|negeren|oublie[sz]?|vergiss|vergeet|"
     r"olvida|dimentica|esqueça|esqueca)\b.{0,40}?\b(?:instructions?|consignes|règles|regles|anweisungen|regeln|"
     r"vorgaben|instrucciones|reglas|normas|istruzioni|regole|instructies|regels|instruções|instrucoes|regras|prompt)\b"),
    ("reveal the system prompt",
     r"\b(?:prompt (?:système|systeme|del sistema|di sistema|de sistema|do sistema)|system-?prompt|systeemprompt|"
     r"instructions cachées|versteckten? anweisungen|instrucciones ocultas|istruzioni nascoste|verborgen instructies|"
     r"instruções ocultas|configuration cachée|versteckte konfiguration|configurazione nascosta)\b"),
    ("persona switch",
     r"\b(?:mode (?:développeur|developpeur|sans restriction)|entwicklermodus|modo (?:desarrollador|desenvolvedor)|"
     r"modalità sviluppatore|ontwikkelaarsmodus)\b"),
    ("persona switch",
     r"\b(?:tu es|du bist|eres|sei|je bent|você é|voce e)\s+(?:maintenant\s+|jetzt\s+|ahora\s+|ora\s+|nu\s+|agora\s+)?"
     r"(?:dan|une ia sans|eine ki ohne|una ia sin|un'ia senza|een ai zonder|uma ia sem)\b"),
    ("persona switch",
     r"\b(?:fais comme si|faites comme si|tu so,? als|tun sie so,? als|finge que|finja que|fai finta|doe alsof|"
     r"joue le rôle|spiel die rolle|haz de cuenta|actúa como|agis comme|handle als|comportati come|gedraag je als|"
     r"age como)\b.{0,60}?\b(?:aucune?|keine?n?|ohne|sans|sin|no tienes|non hai|senza|geen|zonder|sem|não tem)\b"),
    ("persona switch",
     r"\b(?:sans (?:aucune )?(?:restriction|limite|filtre|règle|censure)s?|ohne (?:jede |alle |irgendwelche )?"
     r"(?:einschränkungen|beschränkungen|filter|regeln|zensur)|sin (?:ninguna )?(?:restricciones|límites|limites|filtros|"
     r"normas|reglas|censura)|senza (?:alcun[ao]? )?(?:limiti|restrizioni|filtri|regole|censura)|zonder (?:enige )?"
     r"(?:beperkingen|filters|regels|censuur)|sem (?:nenhuma )?(?:restrições|restricoes|filtros|regras|censura))\b"),
    ("lift redaction",
     r"\b(?:désactive|desactive|deaktiviere|desactiva|disattiva|schakel|desative|contourne|umgehe|elude|eludir|aggira|"
     r"omzeil|contorne)\b.{0,30}?\b(?:filtres?|filter|filtros|filtri|contrôle d'accès|controle d'acces|zugriffs\w*|"
     r"control de acceso|controllo degli accessi|toegangscontrole|controle de acesso|caviardage|schwärzung|anonimi\w*)"),
    ("bulk verbatim dump",
     r"\b(?:répète|repete|wiederhole|repite|ripeti|herhaal|repita)\b.{0,80}?\b(?:mot pour mot|wort für wort|"
     r"palabra por palabra|parola per parola|woord voor woord|palavra por palavra)\b"),
    ("exfiltration",
     r"\b(?:envoie[sz]?|envoyer|sende|senden|schick|envía|envia|enviar|invia|inviare|stuur|verstuur|envie)\b.{0,100}?"
     r"(?:https?://|www\.)"),
    ("override earlier instructions",
     r"\b(?:ignoriere?n?|vergiss|vergessen)\b" + _gap(3) + r"(?:anweisungen|instruktionen|regeln|vorgaben)\b"),
    ("override earlier instructions",
     r"\b(?:ignora|ignore|olvida|olvide)\b" + _gap(3) + r"(?:instrucciones|reglas|indicaciones)\b"),
    ("new instructions",
     r"\b(?:new|updated|real|actual|true|revised|override|overriding|priority)\s+(?:system\s+)?" + _INSTRUCTIONS
     + r"\s*(?::|are\b|follow\b|take precedence)"),
    ("new instructions",
     r"\bfrom now on\b,?\s+(?:you\b|your\b|ignore\b|respond\b|answer\b|act\b|always\b|never\b|only\b|do\b)"),
    ("reveal the system prompt",
     r"\b(?:your|the assistant'?s|the model'?s|the bot'?s|its)\s+(?:own\s+)?(?:system|initial|hidden|original|secret|"
     r"developer|pre-?|meta)[\s-]*(?:prompts?|instructions|message)\b"),
    ("reveal the system prompt",
     r"\b(?:reveal|show|print|repeat|output|display|tell|give|leak|dump|recite|share|write out|spell out|quote|what)\b"
     + _gap(4) + r"(?:system|initial|hidden|original|secret|developer|pre-?|meta)[\s-]*prompts?\b"),
    ("reveal the system prompt",
     r"\b(?:reveal|show|print|repeat|output|display|tell|give|leak|dump|recite|share|write out|spell out|quote)\b"
     + _gap(3) + r"(?:your|the assistant'?s|the ai'?s|the model'?s|the bot'?s|hidden|secret|internal|confidential)\s+"
     r"(?:\w+\s+)?(?:instructions|rules|configuration|guidelines|directives|prompt|preamble|setup message|system message|"
     r"initial message|meta ?prompt|system text|text|message)\b"),
    ("reveal the system prompt",
     r"\b(?:connection strings?|api keys?|secret tokens?|access tokens?|credentials|passwords?|private keys?|"
     r"environment variables|secrets)\b.{0,60}?\b(?:in|from|of|inside)\s+(?:your|the system'?s|the server'?s|the model'?s|"
     r"the assistant'?s)\s+(?:settings|configuration|config|environment|memory|context|prompt|code|instructions)"),
    ("withheld content",
     r"\b(?:what|everything|anything|all|every \w+|the \w+)\s+(?:that\s+)?you\s+(?:normally\s+|usually\s+|would\s+|"
     r"were told to\s+|have been told to\s+)?(?:keep|kept|hold|held|withh[oe]ld|hide|hid|are hiding|redact|redacted|"
     r"filter|filtered|censor|censored|can'?t show|cannot show|are not allowed to (?:show|say|tell|share)|"
     r"must not (?:show|say|tell|share))\b"),
    ("withheld content",
     r"\b(?:their|other users'?|other people'?s|everyone'?s|colleagues'?)\s+(?:exact\s+|previous\s+|recent\s+|own\s+)?"
     r"(?:questions|queries|prompts|chats?|conversations|chat history|search history)\b"),
    ("persona switch",
     r"\b(?:take on|adopt|assume|play|become)\s+(?:the\s+)?(?:persona|character|alter ego)\s+of\b"),
    ("persona switch",
     r"\b(?:this is|i am|i'm)\s+(?:the|your)\s+(?:platform owner|system owner|developer|administrator|admin|operator|"
     r"creator|owner)\b.{0,80}?\b(?:restrictions|rules|limits|permissions|access controls|filters)\b.{0,30}?"
     r"\b(?:lifted|removed|disabled|off|suspended|no longer apply|waived)\b"),
    ("exfiltration",
     r"\b(?:tell|ask|instruct|reply to|respond to|answer)\s+(?:everyone|every user|all users|anyone|users|each user)\b"
     r".{0,120}?\b(?:email|send|give|share|enter|provide|type)\b.{0,40}?\b(?:passwords?|credentials|pins?|account numbers?|"
     r"card numbers?|one-time codes?|login details)\b"),
    ("bulk verbatim dump",
     r"\b(?:whole|entire|complete|full)\s+(?:\w+\s+){0,3}?(?:archive|collection|corpus|database|knowledge base|"
     r"document set|records)\b.{0,60}?\b(?:as one|in one|verbatim|word for word|no summar(?:y|ies|ising|izing)|"
     r"without summar(?:y|ising|izing)|unabridged|in full)\b"),
    ("reveal the system prompt",
     r"\b(?:repeat|print|output|recite|reproduce|echo)\b" + _gap(3)
     + r"(?:everything|all|text|words)\s+(?:above|before)\b"),
    ("persona switch",
     r"\byou\s+are\s+(?:now|no longer)\b|\byou'?re\s+(?:now|no longer)\b"),
    ("persona switch",
     r"\b(?:do anything now|god mode|jailbreak(?:ed)? mode|unrestricted mode|unfiltered mode|uncensored mode|"
     r"no-?limits? mode|evil mode|chaos mode)\b"),
    ("persona switch",
     r"\b(?:you(?:'re| are)\s+(?:now\s+)?(?:in|running in|operating in)|enter|entering|activate|activating|switch to|"
     r"switching to)\s+(?:\w+\s+)?(?:developer|dev|admin|sudo|debug|maintenance|root|test)\s+mode\b"
     r"(?!\s+(?:on|in|of|for)\s+(?:the|a|an|our|my|your|this|these|those)\b)"),
    ("persona switch",
     r"\b(?:developer|dev|admin|sudo|debug)\s+mode\s+(?:is\s+)?(?:now\s+)?(?:enabled|activated|engaged|unlocked)\b"),
    ("persona switch",
     r"\b(?:answer|respond|reply|talk|speak|write|behave|act|operate|output|tell me|continue)\b.{0,40}?\bwithout\s+"
     r"(?:any\s+|your\s+|the\s+)?(?:filters?|filtering|restrictions|limits|limitations|censorship|guardrails|safety|"
     r"safety (?:training|rules|filters|guidelines)|rules|redactions?|moderation|ethical (?:guidelines|constraints))\b"),
    ("persona switch",
     r"\b(?:an?|the)\s+(?:ai|assistant|model|chatbot|bot|llm|version of you)\s+(?:that|which|with|without|who)\b.{0,40}?"
     r"\b(?:no|without|never had|lacks?|free of|stripped of)\b.{0,20}?\b(?:safety|restrictions|rules|filters|guardrails|"
     r"limits|ethics|alignment|morals|censorship)\b"),
    ("hypothetical bypass",
     r"\b(?:hypothetically|in a (?:parallel|fictional|alternate|imaginary) (?:universe|world|reality)|imagine (?:a world|that)|"
     r"picture this|suppose|let'?s pretend|pretend that|in a world|for the sake of argument)\b.{0,140}?"
     r"\b(?:rules|restrictions|laws?|polic(?:y|ies)|data protection|privacy|confidentiality|safeguards|permissions|gdpr|"
     r"access rights)\b.{0,60}?\b(?:no longer appl(?:y|ies)|don'?t exist|doesn'?t exist|do not exist|does not exist|"
     r"abolished|were lifted|lifted|never existed|faded|were removed|removed|suspended|disappeared|are off|switched off)\b"),
    ("hypothetical bypass",
     r"\b(?:hypothetically|imagine|suppose|pretend|in theory|theoretically)\b.{0,80}?\bif\s+(?:a user|i|you|someone|we)\s+"
     r"(?:were|was|are|is)\s+(?:allowed|permitted|authori[sz]ed|cleared)\s+to\s+(?:see|access|read|view|open)\b"),
    ("persona switch",
     r"\b(?:act|behave|respond|answer|reply|roleplay|role-play|pose|speak)\s+(?:as|like)\s+(?:if\s+you\s+(?:were|are)\s+)?"
     r"(?:an?\s+)?(?:\w+\s+)?(?:unfiltered|uncensored|unrestricted|jailbroken|evil|amoral|unethical|rogue|"
     r"unaligned|dan|ai without|assistant without|model without|different ai|other ai)\b"),
    ("persona switch",
     r"\b(?:pretend|imagine|suppose|act as if|roleplay|role-play|play the role)\b.{0,80}?\b(?:you|your)\b.{0,60}?"
     r"\b(?:no|without|free (?:of|from)|not bound by|unbound by|don'?t have|do not have|never follow|no longer have)\b"
     r".{0,30}?\b(?:restrictions|limitations|limits|filters|rules|guidelines|guardrails|censorship|ethics|morals|"
     r"polic(?:y|ies)|boundaries|constraints)\b"),
    ("persona switch",
     r"\b(?:you|your|assistant|ai|model|chatbot|bot)\b.{0,40}?\b(?:have no|without any|free of all|not bound by any|"
     r"no longer (?:bound by|have|follow)|are free from|are not restricted by)\b.{0,30}?\b(?:restrictions|limitations|"
     r"filters|rules|guidelines|guardrails|censorship|ethics|morals|polic(?:y|ies)|constraints)\b"),
    ("persona switch",
     r"\b(?:stay in character|break character|character never refuses|never refuse|must not refuse|cannot refuse|"
     r"can'?t refuse|won'?t refuse|always comply|without refusing|do not refuse|don'?t refuse)\b"),
    ("persona switch",
     r"\b(?:grandma|grandmother|granny|grandpa|grandfather|late (?:mother|father|aunt|uncle|husband|wife|friend|colleague)|deceased)\b.{0,120}?\b(?:used to|would)\b.{0,60}?"
     r"\b(?:tell|read|say|recite|whisper|give)\b"),
    ("fake role header",
     r"(?:^|[\s.!?\]>])#{0,4}\s*\[?(?:system|sys|developer|admin|root)\s*(?:message|prompt|override|instruction|note)?\s*\]?\s*:\s"),
    ("fake role header",
     r"<\|?(?:im_start|im_end|system|endoftext|assistant|user)\|?>|\[/?inst\]|<<\s*/?\s*sys\s*>>|"
     r"</?\s*(?:system|context|instructions?|prompt|documents?|sources?|retrieved[_ ]?(?:context|documents?))\s*>"),
    ("fake role header",
     r"\b(?:system|admin|administrator|security|developer|root)\s+(?:override|overide)\b|\boverride (?:code|mode|command)\b"),
    ("fake role header",
     r"\b(?:end of (?:the )?(?:context|document|documents|system prompt|instructions|user input))\b"),
    ("exfiltration",
     r"!\[[^\]]{0,200}\]\(\s*(?:https?:)?//"),
    ("exfiltration",
     r"\b(?:send|post|upload|forward|email|e-mail|transmit|exfiltrate|leak|submit|copy|append|attach|encode)\b"
     + _gap(4) + r"(?:all|every|entire|whole|full|complete|your|the)\b" + _gap(3)
     + r"(?:documents?|context|conversation|chat|history|data|records|files|chunks|prompt|instructions|passwords?|"
     r"credentials|secrets|keys|tokens|answers?|customer list|personal data)\b" + _gap(6)
     + r"(?:https?://|www\.|\S+@\S+\.\w+|webhook|pastebin|ngrok|requestbin|my server|my endpoint|this url|the url|this link)"),
    ("exfiltration",
     r"https?://\S{0,200}[?&]\w{1,30}=\s*(?:\{|\[|\$|%7b|<)"),
    ("bulk verbatim dump",
     r"\b(?:print|dump|list|output|reproduce|copy|return|show|export|paste|give|display|recite|reveal|type out|write out)\b"
     r"(?:\W+\w+){0,3}?\W+(?:all|every|each|the entire|the full|the complete|entire|full|complete|whole|raw)\W+(?:\w+\W+){0,3}?"
     r"(?:documents?|chunks?|passages|context|records|files|source texts?|training data|database|knowledge base|"
     r"embeddings|collection|corpus|conversation history)\b(?:\W+\w+){0,8}?\W+(?:verbatim|word for word|word-for-word|"
     r"in full|unredacted|unabridged|without (?:redaction|summari[sz]ing|filtering|omissions|changes))"),
    ("lift redaction",
     r"\b(?:stop (?:redacting|masking|anonymi[sz]ing|filtering|censoring)|unredact(?:ed)?|un-?mask(?:ed)?|de-?anonymi[sz]e[ds]?|de-?pseudonymi[sz]e|re-?identify|without (?:the )?"
     r"(?:redactions?|masking|anonymi[sz]ation|pii filter(?:ing)?)|(?:remove|undo|reverse|lift|bypass|disable|turn off)\s+"
     r"(?:the\s+)?(?:redactions?|masking|anonymi[sz]ation|pii filter(?:ing)?|pii detection|screening|content filter(?:s|ing)?|"
     r"safety filter(?:s|ing)?|guardrails?))\b"),
    ("decode and follow",
     r"\b(?:decode|decipher|translate|convert|interpret|unscramble|reverse|rotate|decrypt)\b" + _gap(8)
     + r"(?:base ?64|b64|hex(?:adecimal)?|rot ?-?13|caesar|morse|binary|url-?encoded|encoded|cipher|reversed)\b"
     r".{0,120}?\b(?:follow|execute|obey|do|run|perform|carry out|comply|act on|apply|answer|respond)\b"),
    ("decode and follow",
     r"\b(?:follow|execute|obey|carry out|comply with|act on)\s+(?:the\s+|these\s+|those\s+)?(?:decoded|hidden|encoded|"
     r"embedded|secret|invisible|following (?:encoded|hidden|secret))\s+(?:instructions?|commands?|text|message|payload)"),
)

_COMPILED_RULES = tuple((name, re.compile(pattern, re.IGNORECASE | re.DOTALL)) for name, pattern in RULES)


@dataclass(frozen=True)
class InjectionClassifier:
    """A logistic regression over MiniLM sentence embeddings; weights from the training script."""

    weights: np.ndarray
    bias: float
    embedding_model: str

    @classmethod
    def load(cls, path: Path = CLASSIFIER_PATH) -> "InjectionClassifier":
        """Raises ValueError when PATH is not a classifier file the training script wrote."""
        try:
            data = json.loads(Path(path).read_text())
            weights = np.asarray(data["weights"], dtype=np.float32)
            bias = float(data["bias"])
            model = str(data["embedding_model"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path} is not an injection classifier file: {error}") from None
        if weights.ndim != 1 or not np.all(np.isfinite(weights)) or not math.isfinite(bias):
            raise ValueError(f"{path} is not an injection classifier file: bad weights")
        return cls(weights, bias, model)

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        """Probability that each embedded reading is an attack."""
        if vectors.shape[1] != self.weights.shape[0]:
            raise ValueError(f"the classifier takes {self.weights.shape[0]}-d embeddings, got {vectors.shape[1]}-d")
        logits = vectors @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-logits))


def match_rules(question: NormalisedQuestion) -> list[Finding]:
    """One BLOCK finding per rule name and reading that matches, spanning the first match."""
    findings = []
    for reading in question.readings:
        matched = set()
        for name, rule in _COMPILED_RULES:
            if name in matched:
                continue
            match = rule.search(reading.text)
            if match is not None:
                matched.add(name)
                start, end = question.original_span(reading, match.start(), match.end())
                findings.append(Finding("injection_rules", name, start, end, 1.0, BLOCK, reading.origin))
    return findings


def classify(
    question: NormalisedQuestion, windows: Sequence[Window], vectors: np.ndarray, classifier: InjectionClassifier,
    min_score: float,
) -> list[Finding]:
    """A finding for the window the classifier scores highest: BLOCK from the threshold, else a
    REPORT when it scores at least half of it (kept in the trace to show near misses).

    The threshold is MIN_SCORE, or a quarter of it for a question that disguises its own words
    (is_evasive): people asking about documents do not type homoglyphs or zero-width characters
    inside words, and an attacker who hides words is hiding them from us, so the classifier then
    needs less to go on."""
    if not windows:
        return []
    threshold = min_score / 4 if is_evasive(question) else min_score
    scores = classifier.scores(vectors)
    best = int(np.argmax(scores))
    score = float(scores[best])
    if score < threshold / 2:
        return []
    window = windows[best]
    action = BLOCK if score >= threshold else REPORT
    return [Finding("injection_classifier", "injection or jailbreak", window.start, window.end, round(score, 4), action, window.reading)]


EVASIVE_OBFUSCATIONS = ("zero-width characters", "bidi controls", "homoglyphs", "encoded payload")
_FULL_WIDTH_LATIN = re.compile(r"[\uff21-\uff3a\uff41-\uff5a]")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def is_evasive(question: NormalisedQuestion) -> bool:
    """True when the question disguises words: an evasive obfuscation, or full-width Latin letters
    (ｌｉｋｅ ｔｈｉｓ) in a question with no Chinese, Japanese or Korean text, where they would be usual."""
    if any(obfuscation.kind in EVASIVE_OBFUSCATIONS for obfuscation in question.obfuscations):
        return True
    return len(_FULL_WIDTH_LATIN.findall(question.original, 0, 5000)) >= 3 and not _CJK.search(question.original)


def report_obfuscation(question: NormalisedQuestion) -> list[Finding]:
    """Hidden tag-character text blocks; other obfuscations are reported."""
    findings = []
    for obfuscation in question.obfuscations:
        action = BLOCK if obfuscation.kind == "tag characters" else REPORT
        findings.append(Finding("obfuscation", obfuscation.kind, obfuscation.start, obfuscation.end, 1.0, action))
    return findings


# Documents can be poisoned: a sentence written for the assistant that reads the document rather
# than for the people who read it. These shapes come on top of the question rules above.
_ASSISTANT = r"(?:ai|a\.i\.|assistant|chat ?bot|language model|llm|gpt|copilot|reader model)"
_ADDRESSING_THE_ASSISTANT = re.compile(
    # "Assistant: ignore ...", "AI, always say ..."
    r"(?:^|[.!?]\s+)(?:dear |attention,? |hey |hello,? )?" + _ASSISTANT + r"s?\s*[:,]\s*"
    r"(?:ignore|always|never|do not|don't|you|print|reply|respond|answer|say|tell|output|include|when|if)\b"
    # "If you are asked about ...", "Note to the AI", "Any model summarising this document ..."
    r"|\b(?:if|when|whenever) (?:you are|you're|you get) (?:asked|questioned|prompted)\b"
    r"|\b(?:note|message|instructions?|reminder) (?:to|for) (?:the |any |all |every )?(?:ai|assistant|model|llm|bot|"
    r"chatbot|language model)s?\b"
    r"|\b(?:ai|assistant|model|llm|chatbot|language model)s? (?:reading|processing|summari[sz]ing|indexing|answering "
    r"(?:questions )?(?:about|from)) (?:this|these)\b"
    r"|\b(?:as an?|you are an?) (?:ai|assistant|language model|llm)\b"
    r"|\bsystem prompt\b",
    re.IGNORECASE,
)
_OUTSIDE_IMAGE_OR_LINK = re.compile(r"!?\[[^\]\n]{0,200}\]\(\s*(?:https?:)?//|<img\b|\bhttps?://\S+\?\S*=", re.IGNORECASE)


def addresses_the_assistant(text: str) -> bool:
    """True when TEXT, a sentence of a document, speaks to an AI assistant (an instruction to the
    model, a prompt-injection shape) or carries an image or a link with a query string that would
    make a browser send data out. Such a sentence is never used as evidence."""
    if _OUTSIDE_IMAGE_OR_LINK.search(text):
        return True
    normalised = normalise_question(text[:5000], max_decode_depth=1)
    return bool(match_rules(normalised)) or any(
        _ADDRESSING_THE_ASSISTANT.search(reading.text) for reading in normalised.readings
    )


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")


def sentences_addressing_the_assistant(text: str) -> list[str]:
    """The sentences of TEXT (a passage of a document) that addresses_the_assistant() flags."""
    return [sentence for sentence in (part.strip() for part in _SENTENCE_END.split(text)) if sentence
            and addresses_the_assistant(sentence)]
