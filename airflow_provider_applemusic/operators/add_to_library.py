"""AddToLibraryOperator: add catalog albums, songs, playlists and music videos to the library."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.api.codes import CODE_KINDS, choose, normalize_codes
from airflow_provider_applemusic.api.ids import parse_ids
from airflow_provider_applemusic.api.validation import validate_language, validate_storefront
from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.operators.base import DEFAULT_CONN_ID, AppleMusicBaseOperator

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context

ON_UNKNOWN = ("fail", "warn", "ignore")
#: the XCom key of the code-to-catalog-id mapping
RESOLVED_CODES_KEY = "resolved_codes"


class AddToLibraryOperator(AppleMusicBaseOperator):
    """
    Add catalog resources to the user's library (``POST /v1/me/library``), by catalog id, by
    ISRC (songs) or by UPC/EAN (albums).

    Apple answers 202 and silently ignores ids it cannot add, so by default the ids are first
    looked up in the catalog: unknown ids fail the task before anything is added. Codes are
    resolved to catalog ids first (``AppleMusicHook.resolve_codes``); when one code matches
    several catalog items (an ISRC on a single and on an album), the earliest release is added,
    then the smallest catalog id: one deterministic choice, the same on every run. Everything is
    validated and de-duplicated before any request, and sent in batches (never a 414).

    :param ids: ``{type: [catalog ids]}``; types ``albums``, ``songs``, ``playlists``,
        ``music-videos``; a type's ids may be one comma-separated string; a rendered string is
        parsed as JSON. (templated)
    :param isrcs: ISRCs of songs to add (a list, or one comma-separated string). (templated)
    :param upcs: UPCs or EANs of albums to add. (templated)
    :param apple_music_conn_id: the ``apple_music`` connection. (templated)
    :param language: the API's ``l`` (a language tag). (templated)
    :param storefront: storefront for the catalog look-ups; default the connection's, else the
        user's. (templated)
    :param on_unknown: ``fail`` (default): fail before any POST naming unknown ids and codes;
        ``warn``: log them and leave them out; ``ignore``: post the ids without a look-up and
        leave unknown codes out silently.
    :return: the normalised mapping actually requested, ``{type: [catalog ids]}`` (feed it to
        ``LibraryItemsSensor``); the XCom ``resolved_codes`` holds ``{"isrcs": {isrc: catalog
        id or None}, "upcs": {upc: catalog id or None}}``.
    """

    template_fields: Sequence[str] = ("ids", "isrcs", "upcs", "apple_music_conn_id", "language", "storefront")

    def __init__(
        self,
        *,
        ids: Any = None,
        isrcs: Any = (),
        upcs: Any = (),
        apple_music_conn_id: str = DEFAULT_CONN_ID,
        language: str | None = None,
        storefront: str | None = None,
        on_unknown: str = "fail",
        **kwargs: Any,
    ) -> None:
        super().__init__(apple_music_conn_id=apple_music_conn_id, **kwargs)
        # ids, codes, language and storefront are templated: checked in execute, once rendered
        if on_unknown not in ON_UNKNOWN:
            raise AppleMusicConfigError(
                f"on_unknown must be one of {', '.join(ON_UNKNOWN)}, got {on_unknown!r}"
            )
        if ids is None and not isrcs and not upcs:
            raise AppleMusicConfigError("give ids, isrcs or upcs: there is nothing to add")
        self.ids = ids
        self.isrcs = isrcs
        self.upcs = upcs
        self.language = language
        self.storefront = storefront
        self.on_unknown = on_unknown

    def execute(self, context: Context) -> dict[str, list[str]]:
        """
        Resolve the codes, check the ids and add them; the ids requested, ``{type: [catalog ids]}``.

        :param context: the task's context.
        """
        codes = {"isrcs": normalize_codes(self.isrcs, "isrcs"), "upcs": normalize_codes(self.upcs, "upcs")}
        wanted = parse_ids(self.ids) if self.ids not in (None, "", {}) or not any(codes.values()) else {}
        validate_language(self.language)
        validate_storefront(self.storefront)
        self.hook.validate()
        chosen = self._resolve(codes, context)
        # only the given ids are looked up: what the codes resolved to is in the catalog already
        if self.on_unknown != "ignore" and wanted:
            wanted = self._leave_out_unknown(wanted)
        for param, picks in chosen.items():
            kind = CODE_KINDS[param][0]
            for catalog_id in picks.values():
                if catalog_id is not None and catalog_id not in wanted.setdefault(kind, []):
                    wanted[kind].append(catalog_id)
        wanted = {kind: values for kind, values in wanted.items() if values}
        if not wanted:
            self.log.warning("No known catalog ids left to add: nothing was posted")
            return {}
        self.hook.add_to_library(wanted, language=self.language)
        self.log.info(
            "Asked Apple Music to add %d items: %s",
            sum(len(v) for v in wanted.values()),
            {kind: len(values) for kind, values in wanted.items()},
        )
        return wanted

    def _resolve(self, codes: dict[str, list[str]], context: Context) -> dict[str, dict[str, str | None]]:
        """Each code's chosen catalog id (None: unknown), pushed as XCom ``resolved_codes``."""
        if not any(codes.values()):
            return {}
        found = self.hook.resolve_code_resources(codes, storefront=self.storefront)
        chosen = {
            param: {code: choose(items) for code, items in by_code.items()}
            for param, by_code in found.items()
        }
        for param, by_code in found.items():
            for code, items in by_code.items():
                if len(items) > 1:
                    self.log.info(
                        "%s %s matches %d catalog items %s: adding %s (earliest release)",
                        param[:-1].upper(),
                        code,
                        len(items),
                        [str(item["id"]) for item in items],
                        chosen[param][code],
                    )
        unknown = {param: [c for c, pick in picks.items() if pick is None] for param, picks in chosen.items()}
        unknown = {param: values for param, values in unknown.items() if values}
        if unknown and self.on_unknown == "fail":
            raise AppleMusicConfigError(
                f"codes the catalog does not know (nothing was added): {unknown}; check them, or "
                "pass on_unknown='warn' to add the others"
            )
        if unknown and self.on_unknown == "warn":
            self.log.warning("Leaving out codes the catalog does not know: %s", unknown)
        ti = context.get("ti")
        if ti is not None:
            ti.xcom_push(key=RESOLVED_CODES_KEY, value=chosen)
        return chosen

    def _leave_out_unknown(self, wanted: dict[str, list[str]]) -> dict[str, list[str]]:
        known = self.hook.find_in_library(wanted, storefront=self.storefront)
        unknown = {
            kind: [cid for cid in values if cid not in known.get(kind, {})] for kind, values in wanted.items()
        }
        unknown = {kind: values for kind, values in unknown.items() if values}
        if unknown and self.on_unknown == "fail":
            raise AppleMusicConfigError(
                f"ids holds catalog ids the catalog does not know (nothing was added): "
                f"{unknown}; check them, or pass on_unknown='warn' to add the others"
            )
        if unknown:
            self.log.warning("Leaving out catalog ids the catalog does not know: %s", unknown)
        kept = {
            kind: [cid for cid in values if cid in known.get(kind, {})] for kind, values in wanted.items()
        }
        return {kind: values for kind, values in kept.items() if values}
