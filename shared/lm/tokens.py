"""Token ids as display text: one string per token, partial UTF-8 characters shown by their bytes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch


def _byte_symbols() -> dict[str, int]:
    """Byte-level BPE's alphabet (GPT-2, SmolLM2, Llama 3...): each byte 0-255 is spelled by one printable
    character; printable Latin-1 bytes by themselves, the others by code points from 256 up, in byte order."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    symbols = {chr(b): b for b in printable}
    extra = 0
    for b in range(256):
        if b not in printable:
            symbols[chr(256 + extra)] = b
            extra += 1
    return symbols


_BYTE_OF_SYMBOL = _byte_symbols()


def token_strings(tokenizer: Any, ids: Iterable[int] | torch.Tensor | int) -> list[str]:
    """Decoded text of each token id, e.g. ``[" cat", "s"]``.

    A byte-level BPE token that holds only part of a UTF-8 character (GPT-2 splits "’" into two tokens) decodes
    to "\ufffd" on its own; such a token is shown by its bytes instead, e.g. ``"\\xe2\\x80"`` and
    ``"\\x99"``, so examples keep their information rather than a row of identical replacement marks."""
    if isinstance(ids, int):
        ids = [ids]
    flat = [int(i) for i in (ids.reshape(-1).tolist() if isinstance(ids, torch.Tensor) else list(ids))]
    texts = list(tokenizer.batch_decode([[i] for i in flat]))
    for n, text in enumerate(texts):
        if "\ufffd" in text:
            texts[n] = _token_bytes_text(tokenizer, flat[n], text)
    return texts


def _token_bytes_text(tokenizer: Any, token_id: int, decoded: str) -> str:
    """A partial-character token as text: its bytes, undecodable ones escaped; ``decoded`` when the tokenizer
    is not byte-level (its token is then not made of the 256 byte symbols)."""
    piece = tokenizer.convert_ids_to_tokens(token_id)
    if not isinstance(piece, str) or any(ch not in _BYTE_OF_SYMBOL for ch in piece):
        return decoded
    return bytes(_BYTE_OF_SYMBOL[ch] for ch in piece).decode("utf-8", errors="backslashreplace")
