"""Community names as people see them: normalised (NFKC, invisible characters removed,
spaces collapsed) before they are stored, compared or shown, and checked for length."""

from __future__ import annotations

import re
import unicodedata

from storage.models import MAX_NAME_LENGTH, MAX_TEXT_LENGTH

# format characters (Unicode category Cf: zero-width spaces and joiners, bidi overrides and
# isolates, the BOM) and other controls never show, so two names differing only by them
# look the same
_INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})


def clean_name(name: str) -> str:
    """A name as copbot stores and shows it: NFKC (full-width letters become plain ones),
    invisible and control characters removed, runs of spaces collapsed."""
    text = unicodedata.normalize("NFKC", name or "")
    text = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) not in _INVISIBLE
    )
    return re.sub(r" +", " ", text).strip()


def name_key(name: str) -> str:
    """What two names must not share in one workspace: the clean name, case-folded
    (and normalised again, as case folding can undo NFKC)."""
    return unicodedata.normalize("NFKC", clean_name(name).casefold())


def validate_fields(name: str, mission: str, description: str) -> dict[str, str]:
    """Field name -> message for each invalid field (empty when all are valid)."""
    errors: dict[str, str] = {}
    clean = clean_name(name)
    if not clean:
        errors["name"] = "Give the community a name."
    elif len(clean) > MAX_NAME_LENGTH:
        errors["name"] = f"Keep the name to {MAX_NAME_LENGTH} characters (it has {len(clean)})."
    for field, value in (("mission", mission), ("description", description)):
        if value and len(value) > MAX_TEXT_LENGTH:
            errors[field] = f"Keep this to {MAX_TEXT_LENGTH} characters (it has {len(value)})."
    return errors
