"""Telegram's message formatting: ``parse_mode`` HTML, MarkdownV2 and Markdown turned into the
visible text and MessageEntity objects, with the error texts Telegram gives (they follow
TDLib's parsers, which the Bot API server uses), and entities rendered back as Telegram HTML.

Offsets and lengths are in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

import re
from typing import Any

Entity = dict[str, Any]


class EntityParseError(ValueError):
    """The text does not parse; the message is Telegram's, after "can't parse entities: "."""


def utf16_len(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _u16(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


_SPACES = " \t\r\n\v\f"
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """An HTML character reference at ``pos`` (which holds '&'): the character and the index
    after it, or None when it is not one Telegram knows (the '&' is then kept as is)."""
    n = len(text)
    end = pos + 1
    if end < n and text[end] == "#":
        end += 1
        value = 0
        if end < n and text[end] == "x":
            end += 1
            start = end
            while end < n and text[end] in "0123456789abcdefABCDEF":
                value = value * 16 + int(text[end], 16)
                end += 1
                if value >= 0x10FFFF:
                    return None
        else:
            start = end
            while end < n and "0" <= text[end] <= "9":
                value = value * 10 + int(text[end])
                end += 1
                if value >= 0x10FFFF:
                    return None
        if end == start or value == 0 or end - pos >= 10 or 0xD800 <= value <= 0xDFFF:
            return None
        char = chr(value)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        named = _NAMED.get(text[pos + 1 : end])
        if named is None:
            return None
        char = named
    if end < n and text[end] == ";":
        end += 1
    return char, end


HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}


def _link_entity(url: str, offset: int, length: int) -> Entity | None:
    user = re.fullmatch(r"tg://user\?id=(\d+)", url)
    if user:
        return {
            "type": "text_mention",
            "offset": offset,
            "length": length,
            "user": {"id": int(user.group(1)), "is_bot": False, "first_name": ""},
        }
    checked = check_url(url)
    if checked is None:
        return None
    return {"type": "text_link", "offset": offset, "length": length, "url": checked}


def check_url(url: str) -> str | None:
    """The URL as Telegram keeps it (a bare domain gets ``http://``), or None if it is not a
    link Telegram accepts."""
    url = url.strip()
    if not url or any(ch in url for ch in " \n\t<>\"'"):
        return None
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", url)
    if scheme:
        name = scheme.group(1).lower()
        if name in ("http", "https", "ftp"):
            return url if re.match(r"[A-Za-z]+://[^/?#\s]+\.?[^/?#\s]*", url) else None
        if name in ("tg", "ton"):
            return url if len(url) > len(name) + 3 else None
        return None
    if re.match(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:\d+)?([/?#].*)?$", url):
        return "http://" + url
    return None


def parse_html(text: str) -> tuple[str, list[Entity]]:
    """Telegram HTML (the tag subset of the Bot API) -> visible text and entities."""
    out: list[str] = []
    u16 = 0
    entities: list[Entity] = []
    # (tag name, argument, UTF-16 offset of the start, index into out)
    nested: list[tuple[str, str, int, int]] = []
    n = len(text)
    i = 0

    def at(index: int) -> str:
        return text[index] if index < n else "\0"

    def fail(message: str) -> EntityParseError:
        return EntityParseError(message)

    while i < n:
        c = text[i]
        if c == "&":
            decoded = _decode_entity(text, i)
            if decoded is not None:
                ch, i = decoded
                out.append(ch)
                u16 += _u16(ch)
                continue
        if c != "<":
            out.append(c)
            u16 += _u16(c)
            i += 1
            continue
        begin = i
        i += 1
        if at(i) != "/":
            while i < n and text[i] not in _SPACES and text[i] != ">":
                i += 1
            if i >= n:
                raise fail(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
            tag = text[begin + 1 : i].lower()
            if tag not in HTML_TAGS:
                raise fail(
                    f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                )
            argument = ""
            while at(i) != ">":
                while i < n and text[i] in _SPACES:
                    i += 1
                if at(i) == ">":
                    break
                attribute_begin = i
                while i < n and text[i] not in _SPACES and text[i] != "=" and text[i] != ">":
                    i += 1
                attribute = text[attribute_begin:i].lower()
                if not attribute:
                    raise fail(
                        f'Empty attribute name in the tag "{tag}" at byte offset'
                        f" {_byte_offset(text, begin)}"
                    )
                while i < n and text[i] in _SPACES:
                    i += 1
                if at(i) != "=":
                    if tag == "blockquote" and attribute == "expandable" and at(i) in ">\0 ":
                        argument = "1"
                        continue
                    raise fail(
                        f'Expected equal sign in declaration of an attribute of the tag "{tag}"'
                        f" at byte offset {_byte_offset(text, begin)}"
                    )
                i += 1
                while i < n and text[i] in _SPACES:
                    i += 1
                if i >= n:
                    raise fail(
                        f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                    )
                if text[i] not in "'\"":
                    token_begin = i
                    while i < n and text[i].isascii() and (text[i].isalnum() or text[i] in ".-"):
                        i += 1
                    value = text[token_begin:i].lower()
                    if i < n and text[i] not in _SPACES and text[i] != ">":
                        raise fail(
                            "Unexpected end of name token at byte offset"
                            f" {_byte_offset(text, token_begin)}"
                        )
                else:
                    quote = text[i]
                    i += 1
                    chars: list[str] = []
                    while i < n and text[i] != quote:
                        if text[i] == "&":
                            decoded = _decode_entity(text, i)
                            if decoded is not None:
                                chars.append(decoded[0])
                                i = decoded[1]
                                continue
                        chars.append(text[i])
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = "".join(chars)
                if i >= n:
                    raise fail(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
                if tag == "a" and attribute == "href":
                    argument = value
                elif tag == "code" and attribute == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attribute == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attribute == "emoji-id":
                    argument = value
                elif tag == "blockquote" and attribute == "expandable":
                    argument = "1"
            if tag == "span" and argument != "spoiler":
                raise fail(
                    f'Tag "span" must have class "tg-spoiler" at byte offset'
                    f" {_byte_offset(text, begin)}"
                )
            nested.append((tag, argument, u16, len(out)))
            i += 1  # the '>'
            continue
        # an end tag
        if not nested:
            raise fail(f"Unexpected end tag at byte offset {_byte_offset(text, begin)}")
        i += 1  # the '/'
        while i < n and text[i] not in _SPACES and text[i] != ">":
            i += 1
        end_tag = text[begin + 2 : i]
        while i < n and text[i] in _SPACES:
            i += 1
        if at(i) != ">":
            raise fail(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
        i += 1
        tag, argument, offset, out_start = nested.pop()
        if end_tag and end_tag.lower() != tag:
            raise fail(
                f"Unmatched end tag at byte offset {_byte_offset(text, begin)},"
                f' expected "</{tag}>", found "</{end_tag}>"'
            )
        length = u16 - offset
        if length <= 0:
            continue
        if tag in _SIMPLE_TAGS:
            entities.append({"type": _SIMPLE_TAGS[tag], "offset": offset, "length": length})
        elif tag == "a":
            url = argument or "".join(out[out_start:])
            link = _link_entity(url, offset, length)
            if link is not None:
                entities.append(link)
        elif tag == "code":
            code: Entity = {"type": "code", "offset": offset, "length": length}
            if argument:
                code["language"] = argument
            entities.append(code)
        elif tag == "pre":
            last = entities[-1] if entities else None
            if (
                last is not None
                and last["type"] == "code"
                and (last["offset"], last["length"]) == (offset, length)
                and last.get("language")
            ):
                entities[-1] = {**last, "type": "pre"}
            else:
                entities.append({"type": "pre", "offset": offset, "length": length})
        elif tag == "blockquote":
            kind = "expandable_blockquote" if argument else "blockquote"
            entities.append({"type": kind, "offset": offset, "length": length})
        elif tag == "tg-emoji":
            if not argument.isdigit():
                raise fail("Invalid custom emoji identifier specified")
            entities.append(
                {
                    "type": "custom_emoji",
                    "offset": offset,
                    "length": length,
                    "custom_emoji_id": argument,
                }
            )
    if nested:
        raise fail(f'Can\'t find end tag corresponding to start tag "{nested[-1][0]}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    return "".join(out), sort_entities(entities)


_MD2_RESERVED = "_*[]()~`>#+-=|{}.!"
_MD2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


def parse_markdown_v2(text: str) -> tuple[str, list[Entity]]:
    """MarkdownV2 -> visible text and entities (block quotes: lines starting with '>', an
    expandable one opened by '**>' and closed by '||' at the end of its last line)."""
    out: list[str] = []
    u16 = 0
    entities: list[Entity] = []
    # (type, argument, UTF-16 offset, byte offset of the markup, index into out)
    nested: list[tuple[str, str, int, int, int]] = []
    n = len(text)
    i = 0
    quote_start: int | None = None  # UTF-16 offset where the current block quote began
    quote_expandable = False

    def at(index: int) -> str:
        return text[index] if index < n else "\0"

    def reserved(ch: str) -> EntityParseError:
        return EntityParseError(
            f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
        )

    def close_quote(end: int) -> None:
        nonlocal quote_start, quote_expandable
        if quote_start is not None and end > quote_start:
            kind = "expandable_blockquote" if quote_expandable else "blockquote"
            entities.append({"type": kind, "offset": quote_start, "length": end - quote_start})
        quote_start = None
        quote_expandable = False

    while i < n:
        c = text[i]
        line_start = i == 0 or text[i - 1] == "\n"
        if line_start and not nested:
            if c == ">" or text.startswith("**>", i):
                if quote_start is None:
                    quote_start = u16
                if c == "*":
                    quote_expandable = True
                    i += 2
                i += 1
                continue
            if quote_start is not None:
                # the quote ended with the previous line (its newline is not part of it)
                close_quote(u16 - 1 if u16 > quote_start else u16)
        if c == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            out.append(text[i + 1])
            u16 += 1
            i += 2
            continue
        reserved_here = _MD2_RESERVED
        if nested and nested[-1][0] in ("code", "pre"):
            reserved_here = "`"
        if c not in reserved_here:
            out.append(c)
            u16 += _u16(c)
            i += 1
            continue
        if (
            quote_start is not None
            and quote_expandable
            and not nested
            and text.startswith("||", i)
            and at(i + 2) in "\n\0"
        ):
            i += 2
            close_quote(u16)
            if at(i) == "\n":
                out.append("\n")
                u16 += 1
                i += 1
            continue
        end_of_entity = False
        if nested:
            kind = nested[-1][0]
            if kind == "bold":
                end_of_entity = c == "*"
            elif kind == "italic":
                end_of_entity = c == "_" and at(i + 1) != "_"
            elif kind == "code":
                end_of_entity = c == "`"
            elif kind == "pre":
                end_of_entity = text.startswith("```", i)
            elif kind in ("text_link", "custom_emoji"):
                end_of_entity = c == "]"
            elif kind == "underline":
                end_of_entity = text.startswith("__", i)
            elif kind == "strikethrough":
                end_of_entity = c == "~"
            elif kind == "spoiler":
                end_of_entity = text.startswith("||", i)
        if not end_of_entity:
            begin_byte = _byte_offset(text, i)
            argument = ""
            if c == "_":
                if at(i + 1) == "_":
                    kind = "underline"
                    i += 1
                else:
                    kind = "italic"
            elif c == "*":
                kind = "bold"
            elif c == "~":
                kind = "strikethrough"
            elif c == "|":
                if at(i + 1) != "|":
                    raise reserved(c)
                kind = "spoiler"
                i += 1
            elif c == "[":
                kind = "text_link"
            elif c == "`":
                if text.startswith("```", i):
                    i += 3
                    kind = "pre"
                    language_end = i
                    while language_end < n and text[language_end] not in _SPACES + "`":
                        language_end += 1
                    if i != language_end and language_end < n and text[language_end] != "`":
                        argument = text[i:language_end]
                        i = language_end
                    if at(i) in "\r\n":
                        if at(i + 1) in "\r\n" and at(i) != at(i + 1):
                            i += 2
                        else:
                            i += 1
                    i -= 1
                else:
                    kind = "code"
            elif c == "!":
                if at(i + 1) != "[":
                    raise reserved(c)
                kind = "custom_emoji"
                i += 1
            else:
                raise reserved(c)
            nested.append((kind, argument, u16, begin_byte, len(out)))
            i += 1
            continue
        kind, argument, offset, _, out_start = nested.pop()
        entity: Entity | None = None
        if kind in ("underline", "spoiler"):
            i += 1
        elif kind == "pre":
            i += 2
        elif kind == "text_link":
            if at(i + 1) != "(":
                url = "".join(out[out_start:])
            else:
                i += 2
                url_begin = i
                chars: list[str] = []
                while i < n and text[i] != ")":
                    if text[i] == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
                        chars.append(text[i + 1])
                        i += 2
                        continue
                    chars.append(text[i])
                    i += 1
                if at(i) != ")":
                    raise EntityParseError(
                        f"Can't find end of a URL at byte offset {_byte_offset(text, url_begin)}"
                    )
                url = "".join(chars)
            if u16 > offset:
                entity = _link_entity(url, offset, u16 - offset)
        elif kind == "custom_emoji":
            if at(i + 1) != "(":
                raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
            i += 2
            url_begin = i
            while i < n and text[i] != ")":
                i += 1
            if at(i) != ")":
                raise EntityParseError(
                    "Can't find end of a custom emoji URL at byte offset"
                    f" {_byte_offset(text, url_begin)}"
                )
            emoji = re.fullmatch(r"tg://emoji\?id=(\d+)", text[url_begin:i])
            if emoji is None:
                raise EntityParseError("Custom emoji URL must have an emoji identifier")
            if u16 > offset:
                entity = {
                    "type": "custom_emoji",
                    "offset": offset,
                    "length": u16 - offset,
                    "custom_emoji_id": emoji.group(1),
                }
        if entity is None and kind not in ("text_link", "custom_emoji") and u16 > offset:
            entity = {"type": kind, "offset": offset, "length": u16 - offset}
            if kind == "pre" and argument:
                entity["language"] = argument
        if entity is not None:
            entities.append(entity)
        i += 1
    if nested:
        kind, _, _, begin_byte, _ = nested[-1]
        name = "PreCode" if kind == "pre" and nested[-1][1] else _MD2_NAMES[kind]
        raise EntityParseError(f"Can't find end of {name} entity at byte offset {begin_byte}")
    close_quote(u16)
    return "".join(out), sort_entities(entities)


def parse_markdown(text: str) -> tuple[str, list[Entity]]:
    """Legacy Markdown (``parse_mode=Markdown``): *bold*, _italic_, `code`, ```pre```,
    [text](url)."""
    out: list[str] = []
    u16 = 0
    entities: list[Entity] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            u16 += 1
            i += 2
            continue
        if c not in "_*`[":
            out.append(c)
            u16 += _u16(c)
            i += 1
            continue
        begin = i
        end_char = "]" if c == "[" else c
        i += 1
        language = ""
        is_pre = False
        if c == "`" and text.startswith("``", i):
            i += 2
            is_pre = True
            language_end = i
            while language_end < n and text[language_end] not in _SPACES + "`":
                language_end += 1
            if i != language_end and language_end < n and text[language_end] != "`":
                language = text[i:language_end]
                i = language_end
            if i < n and text[i] in "\r\n":
                pair = i + 1 < n and text[i + 1] in "\r\n" and text[i + 1] != text[i]
                i += 2 if pair else 1
        offset = u16
        start_out = len(out)
        while i < n and (text[i] != end_char or (is_pre and not text.startswith("```", i))):
            ch = text[i]
            out.append(ch)
            u16 += _u16(ch)
            i += 1
        if i >= n:
            raise EntityParseError(
                f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}"
            )
        i += 3 if is_pre else 1
        length = u16 - offset
        if c == "[":
            url = "".join(out[start_out:])
            if i < n and text[i] == "(":
                close = text.find(")", i)
                if close < 0:
                    raise EntityParseError(
                        f"Can't find end of a URL at byte offset {_byte_offset(text, i)}"
                    )
                url = text[i + 1 : close]
                i = close + 1
            if length > 0 and (link := _link_entity(url, offset, length)) is not None:
                entities.append(link)
            continue
        if length <= 0:
            continue
        kind = {"_": "italic", "*": "bold", "`": "pre" if is_pre else "code"}[c]
        entity: Entity = {"type": kind, "offset": offset, "length": length}
        if is_pre and language:
            entity["language"] = language
        entities.append(entity)
    return "".join(out), sort_entities(entities)


def sort_entities(entities: list[Entity]) -> list[Entity]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _char_index(text: str) -> list[int]:
    """For each UTF-16 offset 0..utf16_len(text), the index of the character there (a
    position inside a surrogate pair maps to the character's index)."""
    index: list[int] = []
    for position, ch in enumerate(text):
        index.append(position)
        if ord(ch) > 0xFFFF:
            index.append(position)
    index.append(len(text))
    return index


def trim(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Telegram strips leading and trailing whitespace from messages; entities follow."""
    stripped = text.strip(_SPACES)
    if stripped == text:
        return text, entities
    left = len(text) - len(text.lstrip(_SPACES))  # whitespace is ASCII: 1 unit each
    size = utf16_len(stripped)
    kept: list[Entity] = []
    for entity in entities:
        start = max(0, entity["offset"] - left)
        end = min(size, entity["offset"] + entity["length"] - left)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


_AUTO = re.compile(
    r"(?P<url>\bhttps?://[^\s<>\"']+)"
    r"|(?<![\w@/<>])(?P<bot_command>/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?)(?![\w/<>])"
    r"|(?<![\w@])(?P<mention>@[A-Za-z][A-Za-z0-9_]{3,31})(?!\w)"
    r"|(?<![\w#])(?P<hashtag>#[^\W\d_][\w]{0,255})"
)
_NO_AUTO_INSIDE = frozenset({"code", "pre", "text_link", "url", "text_mention", "custom_emoji"})


def add_auto_entities(text: str, entities: list[Entity]) -> list[Entity]:
    """The entities Telegram finds by itself in any text: links, bot commands, mentions and
    hashtags (not inside code, pre or an explicit link)."""
    if not any(ch in text for ch in "/@#:"):
        return entities
    astral = any(ord(ch) > 0xFFFF for ch in text)
    prefix: list[int] = []
    if astral:
        total = 0
        for ch in text:
            prefix.append(total)
            total += _u16(ch)
        prefix.append(total)
    blocked = [
        (e["offset"], e["offset"] + e["length"]) for e in entities if e["type"] in _NO_AUTO_INSIDE
    ]
    found: list[Entity] = []
    for match in _AUTO.finditer(text):
        kind = match.lastgroup
        assert kind is not None
        start, end = match.span()
        if kind == "url":
            while end > start and text[end - 1] in ".,;:!?)]}'\"":
                end -= 1
        begin16 = prefix[start] if astral else start
        end16 = prefix[end] if astral else end
        if any(b < end16 and begin16 < e for b, e in blocked):
            continue
        found.append({"type": kind, "offset": begin16, "length": end16 - begin16})
    if not found:
        return entities
    return sort_entities(entities + found)


_HTML_OPEN = {
    "bold": "<b>",
    "italic": "<i>",
    "underline": "<u>",
    "strikethrough": "<s>",
    "spoiler": "<tg-spoiler>",
    "code": "<code>",
    "blockquote": "<blockquote>",
    "expandable_blockquote": "<blockquote expandable>",
}
_HTML_CLOSE = {
    "bold": "</b>",
    "italic": "</i>",
    "underline": "</u>",
    "strikethrough": "</s>",
    "spoiler": "</tg-spoiler>",
    "code": "</code>",
    "blockquote": "</blockquote>",
    "expandable_blockquote": "</blockquote>",
    "text_link": "</a>",
    "text_mention": "</a>",
    "custom_emoji": "</tg-emoji>",
}


def escape_html(text: str, *, quote: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if quote else text


def _open_tag(entity: Entity) -> tuple[str, str] | None:
    kind = entity["type"]
    if kind in _HTML_OPEN:
        return _HTML_OPEN[kind], _HTML_CLOSE[kind]
    if kind == "pre":
        if entity.get("language"):
            language = escape_html(str(entity["language"]), quote=True)
            return f'<pre><code class="language-{language}">', "</code></pre>"
        return "<pre>", "</pre>"
    if kind == "text_link":
        return f'<a href="{escape_html(str(entity["url"]), quote=True)}">', "</a>"
    if kind == "text_mention":
        return f'<a href="tg://user?id={int(entity["user"]["id"])}">', "</a>"
    if kind == "custom_emoji":
        emoji_id = escape_html(str(entity["custom_emoji_id"]), quote=True)
        return f'<tg-emoji emoji-id="{emoji_id}">', "</tg-emoji>"
    return None  # url, mention, bot_command ...: no markup


def entities_to_html(text: str, entities: list[Entity]) -> str:
    """Text and entities as Telegram HTML (what ``parse_mode=HTML`` would have to say)."""
    index = _char_index(text)
    size = len(index) - 1
    spans: list[tuple[int, int, str, str]] = []
    for entity in entities:
        tags = _open_tag(entity)
        if tags is None:
            continue
        start = index[min(entity["offset"], size)]
        end = index[min(entity["offset"] + entity["length"], size)]
        if end > start:
            spans.append((start, end, *tags))
    spans.sort(key=lambda s: (s[0], -s[1]))
    parts: list[str] = []
    stack: list[tuple[int, str]] = []
    position = 0
    for start, end, open_tag, close_tag in spans:
        while stack and stack[-1][0] <= start:
            close_end, close = stack.pop()
            parts.append(escape_html(text[position:close_end]))
            parts.append(close)
            position = close_end
        if stack:
            end = min(end, stack[-1][0])  # overlapping entities: clip to the enclosing one
        parts.append(escape_html(text[position:start]))
        parts.append(open_tag)
        position = start
        stack.append((end, close_tag))
    while stack:
        close_end, close = stack.pop()
        parts.append(escape_html(text[position:close_end]))
        parts.append(close)
        position = close_end
    parts.append(escape_html(text[position:]))
    return "".join(parts)


ENTITY_TYPES = frozenset(
    {
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "url",
        "email",
        "phone_number",
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "blockquote",
        "expandable_blockquote",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
    }
)


def check_entities(text: str, raw: object) -> list[Entity]:
    """Entities given explicitly (``entities``/``caption_entities``): checked, clipped to the
    text and sorted."""
    if not isinstance(raw, list):
        raise EntityParseError("entities must be an Array")
    size = utf16_len(text)
    entities: list[Entity] = []
    for item in raw:
        if not isinstance(item, dict):
            raise EntityParseError("entity must be an Object")
        kind, offset, length = item.get("type"), item.get("offset"), item.get("length")
        if kind not in ENTITY_TYPES:
            raise EntityParseError(f"Unsupported entity type {kind!r}")
        if not isinstance(offset, int) or not isinstance(length, int):
            raise EntityParseError("entity offset and length must be Integers")
        if kind == "text_link" and check_url(str(item.get("url", ""))) is None:
            raise EntityParseError("Wrong HTTP URL")
        start, end = max(0, offset), min(size, offset + length)
        if end > start:
            entities.append({**item, "offset": start, "length": end - start})
    return sort_entities(entities)
