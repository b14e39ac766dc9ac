"""Cleaning of scraped news text: Unicode and whitespace normalization, boilerplate removal."""

from __future__ import annotations

import re
import unicodedata

from rag.text import DOUBLE_QUOTES, SINGLE_QUOTES

# --- normalization ---------------------------------------------------------------------------

_ODD_SPACES = "\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
_ODD_SPACES += "\u202f\u205f\u3000"
_INVISIBLE = "\u00ad\u034f\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063"
_INVISIBLE += "\u2064\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROLS = [c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)] + list(range(0x7F, 0xA0))


def _char_map() -> list[tuple[str, str]]:
    """(character, replacement) pairs applied by ``normalize_text``."""
    table: dict[str, str] = {}
    table.update(dict.fromkeys(SINGLE_QUOTES, "'"))
    table.update(dict.fromkeys(DOUBLE_QUOTES, '"'))
    table.update(dict.fromkeys(_ODD_SPACES, " "))
    table.update(dict.fromkeys(_INVISIBLE, ""))
    table.update(dict.fromkeys(map(chr, _CONTROLS), ""))
    table.update({"\r": "\n", "\v": "\n", "\f": "\n", "\x85": "\n", "\u2028": "\n"})
    table["\u2029"] = "\n\n"
    return list(table.items())


_CHAR_MAP = _char_map()
_CHAR_MAP_ASCII = [(c, r) for c, r in _CHAR_MAP if c.isascii()]
_SURROGATE = re.compile("[\ud800-\udfff]")
_SPACES = re.compile("  +")
_BLANK_RUNS = re.compile("\n\n\n+")


def normalize_text(text: str) -> str:
    """Normalize Unicode, quotes, spaces and line breaks; paragraphs end up one blank line apart."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = _SURROGATE.sub("\ufffd", text)
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    ascii_only = text.isascii()
    # Several times faster than str.translate on non-ASCII text.
    for char, replacement in _CHAR_MAP_ASCII if ascii_only else _CHAR_MAP:
        if char in text:
            text = text.replace(char, replacement)
    if not ascii_only:
        text = unicodedata.normalize("NFC", text)  # after removing invisible characters
    text = _SPACES.sub(" ", text)
    text = text.replace(" \n", "\n").replace("\n ", "\n")
    text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip()


# --- boilerplate -----------------------------------------------------------------------------

# Lines longer than this are prose, never boilerplate.
MAX_BOILERPLATE_LINE = 400

# One table of whole-line patterns (case-insensitive, matched against a stripped, normalized
# line). Each family was seen in the newsqa corpus (usatoday.com, cnn.com, theweek.co.uk) or is
# a standard web widget (WordPress comment form, cookie banner, CNN ad feedback form).
_BULLET = r"""(?:[›>"'•·►▶*\-–—]\s*)?"""
_LINE_PATTERNS: list[tuple[str, str]] = [
    # Subscribe buttons: "› Subscribe", "Subscribe now", "Sign up", "Become a subscriber".
    (
        "subscribe",
        _BULLET + r"(?:subscribe|sign up|sign in|log in|register|become a subscriber)"
        r"(?: now| today| here| for free)?[.!]?",
    ),
    # "Subscribe to azcentral.com today. What are you waiting for?"
    ("subscribe", r"subscribe to [\w.' ]{1,40} (?:today|here|now)\b.{0,80}"),
    # Subscription appeals: "Thank you for supporting our journalism...", "Support local
    # journalism. Subscribe to ...", "These articles are for USA TODAY subscribers."
    (
        "subscribe",
        r"(?:thank you for supporting our journalism|support (?:\w+ ){0,2}journalism\b"
        r"(?=.*subscri)|your subscription makes .*possible|to empower the journalism behind"
        r"|these articles are for .{1,40} subscribers\.|just for subscribers:?$"
        r"|never miss a story: subscribe).*",
    ),
    # The Week (Future plc) newsletter and privacy consent block.
    ("consent", r"we will use the (?:details|information) you have shared .*"),
    ("consent", r"would you like to receive the .{1,60} newsletter ?\??"),
    ("consent", r"the .{1,60} newsletter provides you with .{0,120}"),
    ("consent", r"if you wish to object to the use of your data.*"),
    ("consent", r"'we' includes .{0,120} brands as detailed here\.?"),
    # Cookie and privacy banners and footer links.
    ("cookies", r"(?:this (?:web)?site|we|our (?:web)?site|we and our partners) uses? cookies\b.*"),
    ("cookies", r"by (?:continuing to (?:use|browse)|using) (?:this|our) (?:web)?site\b.*"),
    (
        "cookies",
        r"(?:accept|allow|reject|decline|manage)(?: all)?(?: cookies| cookie settings)"
        r"(?: and (?:continue|close))?",
    ),
    ("cookies", r"(?:cookie|privacy|consent) (?:policy|settings|preferences|notice|choices)"),
    ("cookies", r"(?:manage|your) (?:privacy|consent|cookie) (?:choices|preferences|settings)"),
    (
        "cookies",
        r"(?:terms (?:of (?:use|service)|and conditions)|do not sell(?: or share)? my"
        r" personal information)",
    ),
    ("cookies", r"we (?:and our partners )?(?:value|care about|respect) your privacy\b.*"),
    # Comment forms (WordPress): "LEAVE A REPLY", "Please enter your comment!" ...
    (
        "comments",
        r"leave a (?:reply|comment)|cancel reply|post comment|add a comment|\d+ comments?",
    ),
    ("comments", r"please enter your (?:comment|name here|email address here)!?"),
    ("comments", r"you have entered an incorrect email address!?"),
    ("comments", r"save my name, email,? and website in this browser.*"),
    ("comments", r"notify me of (?:follow-up comments|new posts) by email\.?"),
    # reCAPTCHA notices.
    ("recaptcha", r"the recaptcha verification period has expired\..*"),
    ("recaptcha", r"this (?:site|page) is protected by recaptcha\b.*"),
    # Lists of links: "More Articles", "Related Articles", "You may also like".
    (
        "links",
        r"(?:more|related|recommended|popular|trending) (?:articles|stories|posts|content)"
        r":?|you (?:may|might) also like:?|recommended for you:?|most (?:popular|read):?",
    ),
    # Related-story links: "Read more here.", "Read more:", "More:Headline", "RELATED: Headline".
    ("links", r"read more(?: here)?[.:]?"),
    ("links", r"read more (?:about|on|from|at) .{1,120}"),
    ("links", r"(?:read more|related|more|also read|see also|also see)\s?:.{0,200}"),
    ("links", r"click here\b.{0,200}"),
    # Advertising labels.
    (
        "ads",
        r"advertisement|ad feedback|skip advertisement|story continues below(?: advertisement)?"
        r"|continue reading below|scroll to continue(?: with content)?"
        r"|(?:sponsored|paid|partner) (?:content|post|stories)",
    ),
    # CNN's ad feedback form (the whole form is removed, see _AD_BLOCK_START).
    (
        "ads",
        r"(?:\d\.\s*)?(?:how relevant is this ad to you\??|did you encounter any technical"
        r" issues\??)|cnn values your feedback",
    ),
    (
        "ads",
        r"video player was slow to load content|video content never loaded|ad froze or did"
        r" not finish loading|video content did not start after ad|audio on ad was too loud"
        r"|ad never loaded|ad prevented/slowed the page from loading|content moved around while ad"
        r" loaded|ad was repetitive to ads i've seen previously",
    ),
    ("ads", r"thanks! your effort and feedback are much appreciated\.?"),
    # A widget's placeholder left in the text: "Loading weather data ...", "Loading…".
    ("widgets", r"loading(?: \w+){0,3}\s*(?:\.{2,}|…)"),
    # Share buttons: "Share this article", "Share on Facebook", "Copy this url to your clipboard".
    ("share", _BULLET + r"share (?:this|the) (?:article|story|post|page)(?: (?:on|via) \w+)?:?"),
    (
        "share",
        _BULLET + r"share (?:on|via) (?:facebook|twitter|x|linkedin|whatsapp|reddit"
        r"|pinterest|email|messenger)",
    ),
    (
        "share",
        r"(?:email|print|tweet) this (?:article|story)|copy (?:this )?(?:url|link)\b.{0,80}"
        r"|link copied(?: to clipboard)?!?",
    ),
    # Social and shopping promos: "Follow us on Facebook! Like our page ...".
    ("promo", r"follow us on (?:facebook|twitter|instagram|x|social media)\b.{0,150}"),
    ("promo", r"the product experts at reviewed have all your shopping needs covered\..*"),
    # Copyright lines: "© 2016 The Associated Press. All rights reserved. ...", CNN's
    # "™ & © 2016 Cable News Network, Inc., a Time Warner Company. All rights reserved."
    ("rights", r"(?:™\s*&\s*)?(?:©|\(c\)|copyright ©?)\s*(?:\d{4}\b|[a-z]).{0,300}"),
    # A horizontal rule written out: "---", "* * *".
    ("rules", r"(?:[-*_=~·•] ?){3,}"),
    # Image credits left in the text: "(Image credit: Getty Images)".
    ("credits", r"\(image credit: [^)]{1,120}\)"),
]

_BOILERPLATE = re.compile(
    "|".join(f"(?:{pattern})" for _, pattern in _LINE_PATTERNS), re.IGNORECASE
)

# Newsletter calls to action ("Sign up for CNN's Wonder Theory science newsletter.", "NFL
# NEWSLETTER:Sign up now ...", "... and sign up for our autos newsletter."): a sign-up verb at
# the start of a clause, in a line that mentions a newsletter or an inbox (checked first, it is
# cheap), and no reporting verb, so news about newsletters is kept.
_NEWSLETTER_CTA = re.compile(
    r"(?!.*\b(?:said|says|told|according to)\b)"
    r"(?:.*(?:[.!?:;,)]\s*|\b(?:to|and|please|you can|newsletter)\s+))?"
    r"(?:sign(?:ing)? up|subscribe)\b.*",
    re.IGNORECASE,
)

# The same call to action as the last sentence of a line of prose ("... said UPI. For more odd
# news stories, sign up to the weekly Tall Tales newsletter."): only that sentence is removed.
_TRAILING_CTA = re.compile(
    r"(?<=[.!?\"')])\s+(?:for more [^.!?]{1,80}, )?(?:sign up|subscribe) [^.!?]{0,120}"
    r"\bnewsletter\b[^.!?]{0,40}[.!]?$",
    re.IGNORECASE,
)

# A strong "end of article" marker: from it to the end everything is page furniture, when it
# appears in the last part of the text.
_TAIL_MARKER = re.compile(
    r"(?:leave a (?:reply|comment)|more articles|related (?:articles|posts)"
    r"|you (?:may|might) also like|\d+ comments?)\s*:?",
    re.IGNORECASE,
)
_TAIL_FRACTION = 0.5  # the marker must start in the second half of the text

# The CNN ad feedback form: after its first line, its generic buttons ("Other issues",
# "Cancel", "Submit") are dropped too, until the first line that is not part of the form.
_AD_BLOCK_START = re.compile(
    r"(?:\d\.\s*)?how relevant is this ad to you\??|cnn values your feedback", re.IGNORECASE
)
_AD_BLOCK_LINE = re.compile(r"other issues|cancel|submit|close|\d\.?", re.IGNORECASE)


def is_boilerplate(line: str) -> bool:
    """True when a single stripped line is known page furniture."""
    if not line or len(line) > MAX_BOILERPLATE_LINE:
        return False
    if _BOILERPLATE.fullmatch(line):
        return True
    lowered = line.lower()
    return ("newsletter" in lowered or "inbox" in lowered) and bool(_NEWSLETTER_CTA.fullmatch(line))


# The same notice ending a line of prose ("... contributed to this story. © 2016 The
# Associated Press. All rights reserved. This material may not be published ..."): from the
# © to the end of the line, when it says rights are reserved.
_TRAILING_RIGHTS = re.compile(
    r"(?<=[.!?\"')])\s+(?:™\s*&\s*)?©\s*\d{4}\b[^\n]{0,300}\ball rights reserved\b[^\n]{0,300}$",
    re.IGNORECASE,
)

# A one-column layout table as trafilatura writes it: "| Headline |", "| |".
_LAYOUT_CELL = re.compile(r"\|\s*([^|]*?)\s*\|")


def strip_boilerplate(text: str) -> str:
    """Drop boilerplate lines (subscribe prompts, comment forms, ads, consent text, link lists)."""
    kept: list[str] = []
    tail_from = len(text) * _TAIL_FRACTION
    offset = 0
    in_ad_block = False
    for line in text.split("\n"):
        start, offset = offset, offset + len(line) + 1
        stripped = line.strip()
        if not stripped:
            kept.append(line)
            continue
        if in_ad_block and _AD_BLOCK_LINE.fullmatch(stripped):
            continue
        if is_boilerplate(stripped):
            if start >= tail_from and _TAIL_MARKER.fullmatch(stripped):
                break  # everything after an end-of-article marker is page furniture
            in_ad_block = in_ad_block or _AD_BLOCK_START.fullmatch(stripped) is not None
            continue
        in_ad_block = False
        if "newsletter" in line:
            line = _TRAILING_CTA.sub("", line)
        if "©" in line:
            line = _TRAILING_RIGHTS.sub("", line)
        kept.append(line)
    return "\n".join(kept)


# A run of this many printable ASCII characters without a space is never prose: a base64
# image, an endless tracking URL, a line of filler. It would make one giant chunk (the
# chunker counts a word as one token) and a giant cited passage. Scripts written without
# spaces (Chinese, Japanese, Thai) are not ASCII and are left alone.
MAX_WORD = 200
_BLOB = re.compile(rf"[!-~]{{{MAX_WORD},}}")


def drop_blobs(text: str) -> str:
    """Remove runs of ``MAX_WORD`` or more non-space ASCII characters."""
    if len(text) < MAX_WORD:
        return text
    return _SPACES.sub(" ", _BLOB.sub("", text))


def is_layout_table(text: str) -> bool:
    """Whether every line of the text is a one-column table row ("| paragraph |")."""
    lines = [line for line in text.split("\n") if line.strip()]
    return bool(lines) and all(_LAYOUT_CELL.fullmatch(line.strip()) for line in lines)


def unwrap_layout_table(text: str) -> str:
    """Text laid out in a one-column table ("| paragraph |" lines) as plain paragraphs;
    a table with more than one column on any row is data and is left alone."""
    if not is_layout_table(text):
        return text
    lines = [line for line in text.split("\n") if line.strip()]
    cells = (_LAYOUT_CELL.fullmatch(line.strip()) for line in lines)
    return "\n\n".join(cell.group(1) for cell in cells if cell and cell.group(1))


# A line giving a social-media profile: a label of up to three words in any language, then a
# profile's address or handle ("Facebook https://fb.me/outlet", "Twitter: @reporter",
# "LINE ID = @outlet"). Posts ("twitter.com/x/status/1") are not profiles.
_SOCIAL = r"(?:facebook\.com|fb\.me|twitter\.com|x\.com|instagram\.com|t\.me|line\.me"
_SOCIAL += r"|youtube\.com|tiktok\.com|linkedin\.com)"
_PROFILE_LINE = re.compile(
    rf"\S+(?: \S+){{0,2}}?\s*[:=]?\s*(?:(?:https?://)?(?:www\.)?{_SOCIAL}/[\w.@-]+/?|@\w{{2,30}})",
    re.IGNORECASE,
)


def drop_trailing_profiles(text: str) -> str:
    """Drop the profile lines that end a text (an outlet's "follow us", a reporter's contact
    lines). Measured on the newsqa and BBC corpora: the 23 texts that end so all end with a
    reporter's contact lines; the same lines inside a text (a fact sheet of drivers and their
    handles, a voter guide's candidate pages) are data and are kept."""
    lines = text.rstrip().split("\n")
    while lines and (not lines[-1].strip() or _PROFILE_LINE.fullmatch(lines[-1].strip())):
        lines.pop()
    return "\n".join(lines)


def clean_article_text(text: str) -> str:
    """Normalize, drop data blobs and boilerplate, and normalize paragraph spacing again."""
    text = unwrap_layout_table(drop_blobs(normalize_text(text)))
    text = drop_trailing_profiles(strip_boilerplate(text))
    return _BLANK_RUNS.sub("\n\n", text).strip()
