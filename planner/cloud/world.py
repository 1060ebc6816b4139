"""Refresh: one snapshot (World) of exactly what a plan needs, in few requests.

Owns choosing list calls over per-id GETs (DESIGN section 10: a plan over N
servers costs at most N/500 + 20 requests). Does not resolve selectors or
judge anything: that is ``planner.resolve`` / ``planner.validate`` on the World.

Strategy, per kind (page = 1000 items):
- servers: a handful of ids (<= SERVER_IDS_FEW) -> ``server_id=`` filtered lists in
  chunks of 100; names -> one fuzzy ``name=`` list each; anything more, or any
  ``select`` -> one full listing (N/1000 pages).
- volumes: only explicitly named ones (disk-map targets, volume targets) need a
  size/status; attached volume ids and devices come with the servers. Few ->
  ``ids=`` chunks of 60 (<= VOLUME_CHUNKS_FEW requests), else one full listing.
- backups: few sources -> one ``resource_id=`` list each with its own window;
  many -> one listing of the whole project, newest first, with ``status=available``
  and the union of the windows (end_time = latest ``before``), stopped as soon as
  every source has a backup its selector would choose (older pages cannot change
  the choice, so ``complete_backups_for`` still holds); explicit backup ids not
  seen in a listing -> GET each (or, when many, one unfiltered listing, newest first:
  stopped once every pinned id was seen when their disks are known, as a saved plan's
  check knows them, then one ``status=protecting`` listing for RP346; else read to the
  end).
- children: a listing may show a server backup with ``"children": []`` (the documented
  ListBackups example does; ShowBackup fills them, cbr-facts section 15), and may or may
  not list each disk backup as a top-level item too (``parent_id`` set; UNCONFIRMED).
  Only the server backups a plan can use (pinned, or the one each selector would choose)
  that came without children are completed, in this order:
  (a) child rows the listings above showed anyway, where one of them listed every backup
      around the parent's time (the unfiltered listing of pinned ids);
  (b) when more than CHILDREN_SHOW_FEW lack them: one paged listing of
      ``resource_type=OS::Cinder::Volume`` per cluster of their creation times (the
      cluster's span +- CHILDREN_MARGIN, its vault when shared), read to the end and
      grouped by ``parent_id`` (a nightly policy is one cluster: N*disks/1000 pages);
  (c) ShowBackup, one each, for every parent still without children (all of them with
      the documented shape, where no listing shows children).
  A child row is never kept as a backup of its volume (a selector or RP346 would misread
  it), unless it is a pinned backup id.
- vaults: few -> ShowVault each (one request, no paging), else one listing.
"""

from __future__ import annotations

import asyncio
import bisect
import fnmatch
import itertools
import math
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, TypeVar

from planner.clock import to_datetime
from planner.cloud import parse
from planner.cloud.client import VOLUME_IDS_CHUNK, CloudClient
from planner.cloud.models import (
    SERVER_BACKUP,
    VOLUME_BACKUP,
    Backup,
    BackupChild,
    Server,
    Vault,
    Volume,
    World,
)
from planner.cloud.parse import Json
from planner.config.spec import BackupSelector, PlanConfig, RestoreSpec, SelectRef
from planner.resolve import SELECTABLE_STATUSES as SELECTABLE
from planner.resolve import selectable

T = TypeVar("T")

CONCURRENCY = 4
SERVER_IDS_FEW = 500  # up to 5 filtered requests
SERVER_NAMES_FEW = 5
VOLUME_CHUNKS_FEW = 5
BACKUP_SOURCES_FEW = 8
# Backups being taken are listed too where that costs no request (per-source listings,
# and the listing of pinned backups): a restore of a server that is being backed up
# waits in the cloud (BackupService.2002), and the plan says so (RP346). Only
# available, restorable backups are ever chosen.
# what a selector may choose (a backup being restored from included, planner.resolve),
# and protecting: a backup being taken of a target (RP346)
SELECTABLE_STATUSES = tuple(sorted(SELECTABLE))
LISTED_STATUSES = (*SELECTABLE_STATUSES, "protecting")
BACKUP_IDS_FEW = 16
VAULT_IDS_FEW = 3
# server backups lacking children: up to this many (or this many in one time cluster)
# are read with ShowBackup, one each; more take a listing of disk backups
CHILDREN_SHOW_FEW = 8
# how far from its server backup's created_at a disk backup may be created: the disk
# backups of one restore point are made with it (same checkpoint_id); an assumption,
# the documentation says nothing of their times
CHILDREN_MARGIN = timedelta(hours=1)


@dataclass(frozen=True)
class Window:
    """Which backups of a source a selector may choose from (None = unbounded)."""

    before: datetime | None = None
    not_before: datetime | None = None
    vault: str | None = None

    def union(self, other: Window) -> Window:
        return Window(
            before=None
            if self.before is None or other.before is None
            else max(self.before, other.before),
            not_before=(
                None
                if self.not_before is None or other.not_before is None
                else min(self.not_before, other.not_before)
            ),
            vault=self.vault if self.vault == other.vault else None,
        )


@dataclass(frozen=True)
class SelectNeed:
    """A ``select:`` target; ``backups`` set when each match's own backups are needed."""

    kind: Literal["server", "volume"]
    tags: tuple[tuple[str, str], ...] = ()
    name: str | None = None  # glob
    backups: Window | None = None

    def matches(self, name: str, tags: dict[str, str]) -> bool:
        if self.name is not None and not fnmatch.fnmatchcase(name, self.name):
            return False
        return all(tags.get(k) == v for k, v in self.tags)


@dataclass
class RefreshNeeds:
    server_ids: set[str] = field(default_factory=set)
    server_names: set[str] = field(default_factory=set)
    volume_ids: set[str] = field(default_factory=set)
    volume_names: set[str] = field(default_factory=set)
    selects: list[SelectNeed] = field(default_factory=list)
    backup_ids: set[str] = field(default_factory=set)
    # backups of these resource ids, chosen within the window
    backup_sources: dict[str, Window] = field(default_factory=dict)
    # backups of the target found by name ("server"|"volume", name) -> window
    named_sources: dict[tuple[str, str], Window] = field(default_factory=dict)
    vault_ids: set[str] = field(default_factory=set)
    # backups whose disk backups the caller already knows (a saved plan's check): a
    # backup's children never change, so a listing without them is not read again
    children_known: set[str] = field(default_factory=set)

    def add_restore(
        self, backup_id: str, target_kind: str, target_id: str, disk_volumes: Iterable[str]
    ) -> None:
        """A restore's backup, its target and the volumes it writes, all by id."""
        self.backup_ids.add(backup_id)
        if target_kind == "server":
            self.server_ids.add(target_id)
        elif target_kind == "volume":
            self.volume_ids.add(target_id)
        self.volume_ids.update(disk_volumes)

    def add_source(self, resource_id: str, window: Window) -> None:
        old = self.backup_sources.get(resource_id)
        self.backup_sources[resource_id] = window if old is None else old.union(window)


@dataclass
class Listed:
    """What backup listings showed beside the backups refresh keeps.

    ``children``: disk backups listed as top-level items (a ``parent_id`` set), by parent
    id; ``checkpoints``: each listed server backup's restore point; ``covered``: windows
    (vault, start, end; None = unbounded) some listing read to the end with no other
    filter, so that every disk backup created in them was seen.
    """

    children: dict[str, dict[str, Json]] = field(default_factory=dict)
    checkpoints: dict[str, str] = field(default_factory=dict)
    covered: list[tuple[str | None, datetime | None, datetime | None]] = field(default_factory=list)

    def keep(
        self,
        pinned: Iterable[str] = (),
        then: Callable[[Json], bool] | None = None,
        parents: set[str] | None = None,
    ) -> Callable[[Json], bool]:
        """A ``keep`` for client listings: child rows (of ``parents``, if given) are
        recorded and dropped unless pinned; other rows go to ``then`` (default: kept)."""
        wanted = set(pinned)

        def keep(row: Json) -> bool:
            bid = str(row.get("id") or "")
            parent = row.get("parent_id")
            if parent:
                if parents is None or parent in parents:
                    self.children.setdefault(str(parent), {})[bid] = row
                # a disk backup is its server backup's, not one a selector of its volume
                # may choose, nor one that makes the volume look busy (RP346)
                return bid in wanted
            checkpoint = row.get("checkpoint_id")
            if checkpoint:
                self.checkpoints[bid] = str(checkpoint)
            return then is None or then(row)

        return keep

    def covers(self, b: Backup) -> bool:
        lo, hi = b.created_at - CHILDREN_MARGIN, b.created_at + CHILDREN_MARGIN
        return any(
            vault in (None, b.vault_id)
            and (start is None or start <= lo)
            and (end is None or hi <= end)
            for vault, start, end in self.covered
        )

    def children_of(self, b: Backup) -> tuple[BackupChild, ...]:
        """The listed disk backups of ``b`` of its restore point, by id."""
        mine = self.checkpoints.get(b.id)
        rows = [
            row
            for _, row in sorted(self.children.get(b.id, {}).items())
            if not (mine and row.get("checkpoint_id") and row.get("checkpoint_id") != mine)
        ]
        return tuple(parse.parse_child(row) for row in rows if row.get("id"))


def needs_for(config: PlanConfig) -> RefreshNeeds:
    """What refresh must fetch for a plan's restores."""
    needs = RefreshNeeds()
    for spec in config.restores:
        _add_spec(needs, spec)
    return needs


def _add_spec(needs: RefreshNeeds, spec: RestoreSpec) -> None:
    target = spec.target
    window: Window | None = None
    if isinstance(spec.backup, BackupSelector):
        sel = spec.backup
        window = Window(before=sel.before, not_before=sel.not_before, vault=sel.vault)
        if sel.vault:
            needs.vault_ids.add(sel.vault)
        if sel.source:
            needs.add_source(sel.source, window)
            window = None  # the target's own backups are not needed
    else:
        needs.backup_ids.add(spec.backup)
    for entry in spec.disks or ():
        needs.volume_ids.add(entry.volume)  # an explicit target volume: size and status checked
    if isinstance(target, SelectRef):
        needs.selects.append(SelectNeed(target.kind, target.tags, target.name, window))
        return
    if target.kind != "resource":
        ids = needs.server_ids if target.kind == "server" else needs.volume_ids
        names = needs.server_names if target.kind == "server" else needs.volume_names
        if target.id:
            ids.add(target.id)
        elif target.name:
            names.add(target.name)
    if window is not None:
        if target.id:
            needs.add_source(target.id, window)
        elif target.kind != "resource" and target.name:
            needs.named_sources[(target.kind, target.name)] = window


async def _bounded(calls: Iterable[Callable[[], Awaitable[T]]]) -> list[T]:
    sem = asyncio.Semaphore(CONCURRENCY)

    async def run(call: Callable[[], Awaitable[T]]) -> T:
        async with sem:
            return await call()

    return list(await asyncio.gather(*(run(c) for c in calls)))


async def _servers(client: CloudClient, needs: RefreshNeeds) -> dict[str, Server]:
    names = needs.server_names | {n for k, n in needs.named_sources if k == "server"}
    selects = [s for s in needs.selects if s.kind == "server"]
    if selects or len(needs.server_ids) > SERVER_IDS_FEW or len(names) > SERVER_NAMES_FEW:
        everything = await client.list_servers()
        return {
            s.id: s
            for s in everything
            if s.id in needs.server_ids
            or s.name in names
            or any(x.matches(s.name, s.tags) for x in selects)
        }
    calls: list[Callable[[], Awaitable[list[Server]]]] = []
    if needs.server_ids:
        ids = sorted(needs.server_ids)
        calls.append(lambda: client.list_servers(server_ids=ids))
    for name in sorted(names):
        calls.append(lambda name=name: client.list_servers(name=name))  # type: ignore[misc]
    found = [s for page in await _bounded(calls) for s in page]
    return {s.id: s for s in found if s.id in needs.server_ids or s.name in names}


async def _volumes(client: CloudClient, needs: RefreshNeeds) -> dict[str, Volume]:
    names = needs.volume_names | {n for k, n in needs.named_sources if k == "volume"}
    selects = [s for s in needs.selects if s.kind == "volume"]
    ids = sorted(needs.volume_ids)
    chunks = math.ceil(len(ids) / VOLUME_IDS_CHUNK)
    if selects or chunks + len(names) > VOLUME_CHUNKS_FEW:
        everything = await client.list_volumes()
        return {
            v.id: v
            for v in everything
            if v.id in needs.volume_ids
            or v.name in names
            or any(x.matches(v.name, {}) for x in selects)
        }
    calls: list[Callable[[], Awaitable[list[Volume]]]] = []
    if ids:
        calls.append(lambda: client.list_volumes(ids=ids))
    for name in sorted(names):
        calls.append(lambda name=name: client.list_volumes(name=name))  # type: ignore[misc]
    found = [v for page in await _bounded(calls) for v in page]
    return {v.id: v for v in found if v.id in needs.volume_ids or v.name in names}


def _sources(
    needs: RefreshNeeds, servers: dict[str, Server], volumes: dict[str, Volume]
) -> dict[str, Window]:
    """Backup sources once names and selects are known as ids."""
    out = RefreshNeeds(backup_sources=dict(needs.backup_sources))
    for (kind, name), window in needs.named_sources.items():
        pool: Iterable[Server | Volume] = servers.values() if kind == "server" else volumes.values()
        for item in pool:
            if item.name == name:
                out.add_source(item.id, window)
    for sel in needs.selects:
        if sel.backups is None:
            continue
        if sel.kind == "server":
            for s in servers.values():
                if sel.matches(s.name, s.tags):
                    out.add_source(s.id, sel.backups)
        else:
            for v in volumes.values():
                if sel.matches(v.name, {}):
                    out.add_source(v.id, sel.backups)
    return out.backup_sources


def _end(before: datetime | None) -> datetime | None:
    # the API filter has whole seconds: round up so nothing at `before` is lost
    if before is None:
        return None
    return before.replace(microsecond=0) + (
        timedelta(seconds=1) if before.microsecond else timedelta()
    )


def _chosen(b: Backup, w: Window) -> bool:
    """Would a selector with window ``w`` pick ``b`` if nothing newer qualifies?"""
    if w.before is not None and b.created_at > w.before:
        return False
    return selectable(b) and (w.vault is None or b.vault_id == w.vault)


async def _backups(
    client: CloudClient,
    needs: RefreshNeeds,
    sources: dict[str, Window],
    server_ids: set[str],
    listed: Listed,
) -> tuple[dict[str, Backup], frozenset[str]]:
    found: dict[str, Backup] = {}
    keep = listed.keep(needs.backup_ids)
    if len(sources) > BACKUP_SOURCES_FEW:
        union: Window | None = None
        for w in sources.values():
            union = w if union is None else union.union(w)
        assert union is not None
        kind = SERVER_BACKUP if set(sources) <= server_ids else None
        pending = set(sources)
        async for page in client.backup_pages(
            status=SELECTABLE_STATUSES,  # the many-source listing keeps to the request budget
            resource_type=kind,
            vault_id=union.vault,
            start_time=union.not_before.replace(microsecond=0) if union.not_before else None,
            end_time=_end(union.before),
            sort="created_at:desc",
            keep=keep,
        ):
            for b in page:
                if b.resource_id in sources or b.id in needs.backup_ids:
                    found[b.id] = b
                if b.resource_id in pending and _chosen(b, sources[b.resource_id]):
                    pending.discard(b.resource_id)
            # newest first: once every source has its newest eligible backup, older pages
            # cannot change what a selector picks
            if not pending and needs.backup_ids <= found.keys():
                break
    elif sources:
        items = sorted(sources.items())
        pages = await _bounded(
            (
                lambda rid=rid, w=w: client.list_backups(  # type: ignore[misc]
                    resource_id=rid,
                    status=LISTED_STATUSES,
                    vault_id=w.vault,
                    start_time=w.not_before.replace(microsecond=0) if w.not_before else None,
                    end_time=_end(w.before),
                    keep=keep,
                )
            )
            for rid, w in items
        )
        found.update((b.id, b) for page in pages for b in page)
    missing = sorted(needs.backup_ids - found.keys())
    if len(missing) > BACKUP_IDS_FEW:
        wanted = set(missing)
        targets = needs.server_ids | needs.volume_ids

        def pinned_or_busy(row: Json) -> bool:
            # the pinned backups, and any backup being taken of a target (RP346)
            if str(row.get("id")) in wanted:
                return True
            return row.get("status") == "protecting" and str(row.get("resource_id")) in targets

        # Newest first, until every pinned backup was seen, when their disks are known
        # (a saved plan recorded them; else the listing must be read to the end to show
        # every disk backup listed as its own item): a saved plan pins what its selectors
        # chose, mostly each target's newest, while a project keeps weeks of backups (30
        # per server: 300 pages for 10,000 servers, 7x the refresh budget). Stopping
        # trusts no order: only every pinned id seen.
        may_stop = wanted <= needs.children_known
        ended = True
        async for page in client.backup_pages(
            sort="created_at:desc", keep=listed.keep(wanted, then=pinned_or_busy)
        ):
            found.update((b.id, b) for b in page)
            if may_stop and wanted <= found.keys():
                ended = False
                break
        if ended:
            listed.covered.append((None, None, None))  # every backup, read to the end
        elif targets:
            # a backup being taken of a target (RP346), however long ago it began
            busy = await client.list_backups(
                status="protecting", keep=listed.keep((), then=pinned_or_busy)
            )
            found.update((b.id, b) for b in busy)
    elif missing:
        got = await _bounded((lambda bid=bid: client.get_backup(bid)) for bid in missing)  # type: ignore[misc]
        found.update((b.id, b) for b in got if b is not None)
    return found, frozenset(sources)


def _usable(
    found: dict[str, Backup], needs: RefreshNeeds, sources: dict[str, Window]
) -> list[Backup]:
    """The backups a plan can restore from: the pinned ones and, per source, the one
    its selector would choose (newest eligible), as ``planner.resolve`` picks it."""
    out = {bid: found[bid] for bid in needs.backup_ids if bid in found}
    best: dict[str, Backup] = {}
    for b in found.values():
        w = sources.get(b.resource_id)
        if (
            w is None
            or not _chosen(b, w)
            or (w.not_before is not None and b.created_at < w.not_before)
        ):
            continue
        old = best.get(b.resource_id)
        if old is None or (b.created_at, b.id) > (old.created_at, old.id):
            best[b.resource_id] = b
    out.update((b.id, b) for b in best.values())
    return list(out.values())


async def _children(
    client: CloudClient,
    found: dict[str, Backup],
    usable: list[Backup],
    listed: Listed,
    servers: dict[str, Server],
) -> None:
    """Complete each usable server backup listed without children (in place): rows
    listings showed (a), a listing of disk backups per time cluster (b), ShowBackup (c).

    A backup still without children after ShowBackup stays so, and the rules say so (RP339).
    """
    lacking = {b.id: b for b in usable if b.resource_type == SERVER_BACKUP and not b.children}
    _take_listed(found, lacking, listed)
    if len(lacking) > CHILDREN_SHOW_FEW:
        pages = _pages_estimate(found, servers)
        groups = [
            g
            for g in _clusters(lacking.values())
            if len(g) > CHILDREN_SHOW_FEW and pages(g) < len(g)
        ]
        groups.sort(key=len, reverse=True)
        # the largest cluster first: a cloud that lists no child as a top-level item
        # (the documented shape) then costs one listing here, not one per cluster
        if groups and await _list_children(client, groups[0], listed):
            await _bounded((lambda g=g: _list_children(client, g, listed)) for g in groups[1:])  # type: ignore[misc]
        _take_listed(found, lacking, listed)
    got = await _bounded((lambda bid=bid: client.get_backup(bid)) for bid in sorted(lacking))  # type: ignore[misc]
    found.update((b.id, b) for b in got if b is not None)


def _take_listed(found: dict[str, Backup], lacking: dict[str, Backup], listed: Listed) -> None:
    """Parents whose disk backups a listing read in full (and showed): done."""
    for bid, b in list(lacking.items()):
        if not listed.covers(b):
            continue
        children = listed.children_of(b)
        if children:
            found[bid] = b.model_copy(update={"children": children})
            del lacking[bid]


def _clusters(parents: Iterable[Backup]) -> list[list[Backup]]:
    """Parents by creation time, split where two are far apart: a few old picks (a night
    whose backup failed) then cost a listing of their own night, not of every night between."""
    groups: list[list[Backup]] = []
    for b in sorted(parents, key=lambda b: (b.created_at, b.id)):
        if groups and b.created_at - groups[-1][-1].created_at <= 2 * CHILDREN_MARGIN:
            groups[-1].append(b)
        else:
            groups.append([b])
    return groups


def _pages_estimate(
    found: dict[str, Backup], servers: dict[str, Server]
) -> Callable[[list[Backup]], int]:
    """At least how many pages a listing of the disk backups around a group reads: one row
    per disk (the server's attached volumes) of every server backup refresh saw made in
    that window. A listing that would cost as many requests as ShowBackup for each is not made."""
    made = sorted(
        (b.created_at, len(servers[b.resource_id].volumes) if b.resource_id in servers else 1)
        for b in found.values()
        if b.resource_type == SERVER_BACKUP
    )
    times = [t for t, _ in made]
    rows = [0, *itertools.accumulate(n for _, n in made)]

    def pages(group: list[Backup]) -> int:
        lo = bisect.bisect_left(times, group[0].created_at - CHILDREN_MARGIN)
        hi = bisect.bisect_right(times, group[-1].created_at + CHILDREN_MARGIN)
        return max(1, math.ceil((rows[hi] - rows[lo]) / CloudClient.page_limit))

    return pages


async def _list_children(client: CloudClient, group: list[Backup], listed: Listed) -> bool:
    """Every disk backup created around ``group``'s parents, to the last page: a window
    read in full is what makes a parent's listed children all of them. True when it
    showed a child of one of them."""
    vaults = {b.vault_id for b in group}
    vault = vaults.pop() if len(vaults) == 1 and group[0].vault_id else None
    start = (group[0].created_at - CHILDREN_MARGIN).replace(microsecond=0)
    end = _end(group[-1].created_at + CHILDREN_MARGIN)
    parents = {b.id for b in group}
    keep = listed.keep(then=lambda row: False, parents=parents)
    async for _ in client.backup_pages(
        resource_type=VOLUME_BACKUP, vault_id=vault, start_time=start, end_time=end, keep=keep
    ):
        pass  # keep records the rows; none is parsed
    listed.covered.append((vault, start, end))
    return any(bid in listed.children for bid in parents)


async def _vaults(client: CloudClient, vault_ids: set[str]) -> dict[str, Vault]:
    if not vault_ids:
        return {}
    if len(vault_ids) <= VAULT_IDS_FEW:
        got = await _bounded((lambda vid=vid: client.get_vault(vid)) for vid in sorted(vault_ids))  # type: ignore[misc]
        return {v.id: v for v in got if v is not None}
    return {v.id: v for v in await client.list_vaults() if v.id in vault_ids}


async def refresh(client: CloudClient, needs: RefreshNeeds) -> World:
    servers, volumes = await asyncio.gather(_servers(client, needs), _volumes(client, needs))
    sources = _sources(needs, servers, volumes)
    listed = Listed()
    backups, complete = await _backups(client, needs, sources, set(servers), listed)
    usable = [b for b in _usable(backups, needs, sources) if b.id not in needs.children_known]
    await _children(client, backups, usable, listed, servers)
    vault_ids = needs.vault_ids | {b.vault_id for b in backups.values() if b.vault_id}
    vaults = await _vaults(client, vault_ids)
    return World(
        region=client.settings.region,
        project_id=client.settings.project_id,
        fetched_at=to_datetime(client.clock.now()),
        servers=servers,
        volumes=volumes,
        backups=backups,
        vaults=vaults,
        complete_backups_for=complete,
    )
