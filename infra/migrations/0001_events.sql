-- 0001_events: the ops_audit trail, its settings and the head of its hash chain.
--
-- Assumes, and never creates or alters:
--   * what Supabase provides: roles anon, authenticated, service_role and auth.jwt();
--   * what Pulumi declares (infra/components/audit.py): schema ops_audit, owned
--     by the NOLOGIN role ops_audit_owner, and the NOLOGIN group roles
--     ops_audit_writer and ops_audit_reader.
-- The runner (infra/migrations/runner.py) applies the files as the admin it
-- connects as (the owner role may not use Supabase's auth schema, which the
-- policies reference), then hands every object in ops_audit to ops_audit_owner.

-- One row: the values the runner was configured with (infra/derive/audit.py),
-- so no migration hard-codes the claims namespace or the role names.
create table if not exists ops_audit.settings (
    -- Always true: the primary key then admits a single row.
    singleton       boolean primary key default true,
    -- The JWT claim holding the ops roles: `<claims namespace>/roles`.
    roles_claim     text    not null,
    -- Every ops role of the access model; any other name in the claim grants nothing.
    ops_roles       text[]  not null,
    -- The ops roles that read the whole trail (those holding audit:read).
    read_all_roles  text[]  not null,
    -- The single row.
    constraint settings_singleton check (singleton),
    -- A claim under an https namespace, as Auth0 requires for custom claims.
    constraint settings_roles_claim_namespaced check (roles_claim ~ '^https://[^ ]+/roles$'),
    -- Whoever reads all must be an ops role to begin with.
    constraint settings_read_all_are_ops_roles check (read_all_roles <@ ops_roles)
);

-- One row: the last link of the chain. Appenders lock it (select ... for
-- update) and so assign chain_seq one at a time, in commit order.
create table if not exists ops_audit.chain_head (
    -- Always true: the primary key then admits a single row.
    singleton   boolean primary key default true,
    -- chain_seq of the last appended event; 0 before the first.
    last_seq    bigint  not null,
    -- row_hash of the last appended event; 32 zero bytes before the first.
    last_hash   bytea   not null,
    -- The single row.
    constraint chain_head_singleton check (singleton),
    -- Sequence numbers start at 1.
    constraint chain_head_last_seq_nonnegative check (last_seq >= 0),
    -- A sha256 digest.
    constraint chain_head_last_hash_sha256 check (octet_length(last_hash) = 32)
);

insert into ops_audit.chain_head (last_seq, last_hash)
values (0, decode(repeat('00', 32), 'hex'))
on conflict (singleton) do nothing;

-- Partitions detached after export (ops_audit.detach_partition): where the
-- chain that remains attached starts.
create table if not exists ops_audit.detached_partitions (
    -- The month's partition name; the detached table is <name>_detached
    -- until it is archived and dropped.
    partition_name  text        primary key,
    -- First and last chain_seq the partition held.
    first_seq       bigint      not null,
    last_seq        bigint      not null,
    -- row_hash of its last event: the prev_hash of the next attached event.
    last_hash       bytea       not null,
    -- How many events it held (checked against the export before detaching).
    row_count       bigint      not null,
    -- When it was detached.
    detached_at     timestamptz not null default now()
);

-- The trail. Range-partitioned by month on occurred_at (0004_partitions.sql).
create table if not exists ops_audit.events (
    -- Surrogate id, allocated before the chain lock; never used for ordering.
    id          bigint      generated always as identity,
    -- When the server accepted the event (transaction start, UTC inside the digest).
    occurred_at timestamptz not null default now(),
    -- The JWT `sub` of the actor (an Auth0 id such as `auth0|abc`, hence text),
    -- filled in by the server when the client leaves it out.
    actor_sub   text        not null,
    -- The actor's ops roles, copied by the server from the roles claim.
    actor_roles text[]      not null default '{}',
    -- What was done, `domain:action` style (`payments:refund`).
    action      text        not null,
    -- What it was done to (an entry id, a campaign, a payment, an incident).
    target      text        not null,
    -- Details of the action.
    payload     jsonb       not null default '{}'::jsonb,
    -- Position in the hash chain, assigned by the server under the chain lock.
    chain_seq   bigint      not null,
    -- row_hash of the previous event in the chain.
    prev_hash   bytea       not null,
    -- sha256 over prev_hash and the canonical rendering of this row.
    row_hash    bytea       not null,
    -- A partitioned table's keys must include the partition column.
    constraint events_pkey primary key (chain_seq, occurred_at),
    -- Short, lowercase action names that reports can group by.
    constraint events_action_form check (action ~ '^[a-z][a-z0-9_-]*(:[a-z0-9_-]+)*$' and length(action) <= 100),
    -- A non-empty, bounded target.
    constraint events_target_length check (length(target) between 1 and 500),
    -- The payload is a JSON object, not a scalar or array.
    constraint events_payload_object check (jsonb_typeof(payload) = 'object'),
    -- Digests are sha256.
    constraint events_hashes_sha256 check (octet_length(prev_hash) = 32 and octet_length(row_hash) = 32)
) partition by range (occurred_at);

-- What the policies and the two report queries filter on: one actor's
-- latest rows (btree), and a time window (BRIN: occurred_at grows with the
-- table, and a BRIN entry costs an append almost nothing).
create index if not exists events_actor_sub_occurred_at on ops_audit.events (actor_sub, occurred_at desc);
create index if not exists events_occurred_at on ops_audit.events using brin (occurred_at);
