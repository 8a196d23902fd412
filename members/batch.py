"""The linking rules of :func:`link_member`, applied to a whole batch in a few queries.

A sync links thousands of records; one ``link_member`` call costs several round trips
each. ``link_members`` loads everything a batch can match on at once (identities by
source and id, members by member number, members by email), replays the rules in memory
in the batch's order (so a record sees what earlier records of the batch created, just
as consecutive ``link_member`` calls would), then writes with a handful of executemany
statements. ``tests/connectors/test_batch_linking.py`` checks it agrees with
``link_member``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, func, select, update
from sqlalchemy.orm import Session

from records import Identity, Member, utcnow
from records.bulk import allocate_ids, insert_rows, one_of

from .linking import _PROFILE_FIELDS
from .records import PersonRecord

# IN lists are chunked: SQLite allows 32,766 bound parameters, and huge lists plan badly.
_CHUNK = 900


@dataclass(frozen=True)
class BatchLink:
    """What linking one record of a batch did (``problem`` set: nothing was written)."""

    member_id: int | None
    created: bool = False
    updated: bool = False
    new_identities: int = 0
    problem: str | None = None


@dataclass
class _Pending:
    """A member as the batch sees it: a loaded row or one about to be created."""

    key: int | tuple[str, int]
    fields: dict[str, Any]
    order: int
    dirty: bool = False
    stored_number: str | None = None


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _normal_email(value: str | None) -> str | None:
    return value.strip().lower() if value else None


class _Index:
    """What a batch can match on, loaded in a few queries and kept current in memory."""

    def __init__(self, session: Session, tenant_id: int, records: Sequence[PersonRecord]):
        self.session, self.tenant_id = session, tenant_id
        # (source, external_id) -> (identity order, member key); existing identity ids
        # order exactly as link_member's ``ORDER BY Identity.id``.
        self.pairs: dict[tuple[str, str], tuple[int, int | tuple[str, int]]] = {}
        self.identity_ids: dict[tuple[str, str], int] = {}
        self.numbers: dict[str, int | tuple[str, int]] = {}
        self.emails: dict[str, list[_Pending]] = {}
        self.members: dict[int | tuple[str, int], _Pending] = {}
        self._load(records)

    def _load(self, records: Sequence[PersonRecord]) -> None:
        by_source: dict[str, set[str]] = defaultdict(set)
        for record in records:
            for source, external_id in record.identities():
                by_source[source].add(external_id)
        member_ids: set[int] = set()
        for source, ids in by_source.items():
            for chunk in _chunks(sorted(ids)):
                rows = self.session.execute(
                    select(Identity.id, Identity.external_id, Identity.member_id).where(
                        Identity.tenant_id == self.tenant_id,
                        Identity.source == source,
                        one_of(self.session, Identity.external_id, list(chunk)),
                    )
                )
                for identity_id, external_id, member_id in rows:
                    self.pairs[(source, external_id)] = (identity_id, member_id)
                    self.identity_ids[(source, external_id)] = identity_id
                    member_ids.add(member_id)
        numbers = sorted({r.member_number for r in records if r.member_number})
        for chunk in _chunks(numbers):
            self._load_members(one_of(self.session, Member.member_number, list(chunk)))
        # Email is only consulted for records nothing stronger matches.
        emails = sorted(
            {
                e
                for r in records
                if (e := _normal_email(r.email))
                and not any(p in self.pairs for p in r.identities())
                and not (r.member_number and r.member_number in self.numbers)
            }
        )
        for chunk in _chunks(emails):
            self._load_members(
                one_of(self.session, func.lower(Member.email, type_=String()), list(chunk))
            )
        missing = sorted(member_ids - set(self.members))
        for chunk in _chunks(missing):
            self._load_members(one_of(self.session, Member.id, list(chunk)))

    def _load_members(self, condition: Any) -> None:
        columns = [getattr(Member, name) for name in _PROFILE_FIELDS]
        rows = self.session.execute(
            select(Member.id, Member.active, *columns).where(
                Member.tenant_id == self.tenant_id, condition
            )
        ).all()
        # Sorted here, not by ORDER BY: without statistics SQLite then walks the whole
        # tenant in id order (ix_members_tenant_id) instead of looking each value up in
        # the index on member number or email, a scan of every member per batch.
        rows.sort(key=lambda row: row.id)
        for row in rows:
            if row.id in self.members:
                continue
            fields = {name: getattr(row, name) for name in _PROFILE_FIELDS}
            fields["active"] = row.active
            self.add(
                _Pending(key=row.id, fields=fields, order=row.id, stored_number=row.member_number)
            )

    def add(self, pending: _Pending) -> None:
        self.members[pending.key] = pending
        number = pending.fields.get("member_number")
        if number:
            self.numbers[number] = pending.key
        self.note_email(pending)

    def note_email(self, pending: _Pending) -> None:
        email = _normal_email(pending.fields.get("email"))
        if email:
            holders = self.emails.setdefault(email, [])
            if pending not in holders:
                holders.append(pending)

    def find(self, record: PersonRecord, match_email: bool) -> _Pending | None:
        found = [self.pairs[p] for p in record.identities() if p in self.pairs]
        if found:
            return self.members[min(found, key=lambda item: item[0])[1]]
        if record.member_number and record.member_number in self.numbers:
            return self.members[self.numbers[record.member_number]]
        if match_email:
            email = _normal_email(record.email)
            # link_member picks the lowest member id still holding the address; a
            # member whose address changed earlier in the batch no longer counts.
            holders = [
                p
                for p in self.emails.get(email or "", [])
                if _normal_email(p.fields.get("email")) == email
            ]
            if holders:
                return min(holders, key=lambda p: p.order)
        return None


def _apply(pending: _Pending, record: PersonRecord) -> tuple[bool, dict[str, Any]]:
    """:func:`apply_profile` on a row dict: (changed, new values)."""
    fields = dict(pending.fields)
    changed = False
    for name in _PROFILE_FIELDS:
        value = getattr(record, name)
        if value in (None, ""):
            continue
        if name == "email":
            value = value.strip()
        if fields.get(name) != value:
            fields[name] = value
            changed = True
    if not fields.get("display_name"):
        fields["display_name"] = (
            f"{fields.get('given_name') or ''} {fields.get('family_name') or ''}".strip()
        )
    if record.active and not fields.get("active"):
        fields["active"], fields["deactivated_at"] = True, None
        changed = True
    return changed, fields


def find_members(
    session: Session,
    tenant_id: int,
    records: Sequence[PersonRecord],
    *,
    match_email: bool = True,
) -> list[int | None]:
    """The member id each record belongs to (or ``None``), by the linking rules; no writes."""
    index = _Index(session, tenant_id, records)
    found = []
    for record in records:
        pending = index.find(record, match_email)
        found.append(pending.key if pending is not None else None)  # type: ignore[misc]
    return found


def link_members(
    session: Session,
    tenant_id: int,
    records: Sequence[PersonRecord],
    *,
    match_email: bool = True,
    seen_at: datetime | None = None,
) -> list[BatchLink]:
    """:func:`link_member` for each record in order, in a few statements.

    A record whose member number already belongs to another member is not linked; its
    result says why (``link_member`` would fail the whole transaction instead).

    Args:
        seen_at: when given, stamp every identity of the batch with it
            (``Identity.last_seen_at``): a full reconcile finds the missing by it.

    Returns:
        One :class:`BatchLink` per record, in order.
    """
    index = _Index(session, tenant_id, records)
    now = seen_at or utcnow()
    new_order = 1 << 62  # new rows sort after every existing id, as their ids will
    results: list[dict[str, Any]] = []
    new_identities: list[tuple[tuple[str, str], _Pending]] = []
    created_keys: list[tuple[str, int]] = []
    for position, record in enumerate(records):
        pending = index.find(record, match_email)
        created = pending is None
        if pending is None:
            new_order += 1
            pending = _Pending(
                key=("new", position),
                fields={"active": True, "display_name": "", "given_name": "", "family_name": ""},
                order=new_order,
            )
        changed, fields = _apply(pending, record)
        number = fields.get("member_number")
        holder = index.numbers.get(number) if number else None
        if holder is not None and holder != pending.key:
            results.append(
                {
                    "member_id": None,
                    "problem": f"member number {number!r} already belongs to another member",
                }
            )
            continue
        if created:
            index.add(pending)
            created_keys.append(pending.key)  # type: ignore[arg-type]
        if fields != pending.fields:
            previous = pending.fields.get("member_number")
            if previous and previous != number and index.numbers.get(previous) == pending.key:
                # The number moved on: a later record carrying it must not find this member.
                del index.numbers[previous]
            pending.fields, pending.dirty = fields, True
            index.add(pending)
        added = 0
        for pair in record.identities():
            if pair not in index.pairs:
                new_order += 1
                index.pairs[pair] = (new_order, pending.key)
                new_identities.append((pair, pending))
                added += 1
        results.append(
            {
                "pending": pending,
                "created": created,
                "updated": changed and not created,
                "new_identities": added,
            }
        )

    _write_members(session, tenant_id, index, created_keys)
    if new_identities:
        insert_rows(
            session,
            Identity,
            [
                {
                    "tenant_id": tenant_id,
                    "member_id": pending.key,
                    "source": source,
                    "external_id": external_id,
                    "created_at": now,
                    "last_seen_at": now,
                }
                for (source, external_id), pending in new_identities
            ],
        )
    if seen_at is not None:
        seen = sorted(
            {
                index.identity_ids[p]
                for r in records
                for p in r.identities()
                if p in index.identity_ids
            }
        )
        for chunk in _chunks(seen):
            session.execute(
                update(Identity)
                .where(one_of(session, Identity.id, list(chunk)))
                .values(last_seen_at=seen_at)
            )
    return [
        BatchLink(member_id=None, problem=item["problem"])
        if "problem" in item
        else BatchLink(
            member_id=item["pending"].key,
            created=item["created"],
            updated=item["updated"],
            new_identities=item["new_identities"],
        )
        for item in results
    ]


def _write_members(
    session: Session, tenant_id: int, index: _Index, created_keys: list[tuple[str, int]]
) -> None:
    """Insert the batch's new members, update the changed ones; re-key pending rows."""
    now = utcnow()
    moved = [
        {"id": p.key, "member_number": None}
        for p in index.members.values()
        if p.dirty and p.stored_number and p.fields.get("member_number") != p.stored_number
    ]
    if moved:
        # A number can pass from one member to another within a batch; clear the old
        # holders first so the unique index never sees it twice mid-statement.
        session.execute(update(Member), moved)
    if created_keys:
        rows = [
            {
                "tenant_id": tenant_id,
                "created_at": now,
                "updated_at": now,
                "profile": {},
                "deactivated_at": None,
                **{name: index.members[key].fields.get(name) for name in _PROFILE_FIELDS},
                "given_name": index.members[key].fields.get("given_name") or "",
                "family_name": index.members[key].fields.get("family_name") or "",
                "display_name": index.members[key].fields.get("display_name") or "",
                "active": index.members[key].fields.get("active", True),
            }
            for key in created_keys
        ]
        # Ids reserved up front, not read back: RETURNING in parameter order costs one
        # statement per row on SQLite, and a plain multi-row insert is what the new
        # identities (which need the ids) are waiting for.
        ids = allocate_ids(session, Member, len(rows))
        for row, member_id in zip(rows, ids, strict=True):
            row["id"] = member_id
        insert_rows(session, Member, rows)
        for key, member_id in zip(created_keys, ids, strict=True):
            pending = index.members.pop(key)
            pending.key, pending.dirty = member_id, False
            index.members[member_id] = pending
        # Identities and number/email indexes still hold the placeholder: point them on.
        renamed = {key: index.members[mid].key for key, mid in zip(created_keys, ids, strict=True)}
        for pair, (order, key) in list(index.pairs.items()):
            if key in renamed:
                index.pairs[pair] = (order, renamed[key])
    changed = [p for p in index.members.values() if p.dirty]
    if changed:
        session.execute(
            update(Member),
            [
                {
                    "id": p.key,
                    **{name: p.fields.get(name) for name in _PROFILE_FIELDS},
                    "active": p.fields.get("active", True),
                    **({"deactivated_at": None} if "deactivated_at" in p.fields else {}),
                    "updated_at": now,
                }
                for p in changed
            ],
        )
        for p in changed:
            p.dirty = False
