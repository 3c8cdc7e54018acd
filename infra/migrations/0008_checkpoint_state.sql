-- 0008_checkpoint_state: what the checkpoint job signs and anchors outside the
-- database (infra/lambdas/audit_checkpoint.py), as one jsonb value:
--
--   chain_seq        the last linked chain_seq (0 before the first event);
--   row_hash         hex of that event's row_hash (64 zeros before the first);
--   owner_members    sorted roles that are members of ops_audit_owner, directly or
--                    through other roles: whoever can disable the trail's triggers,
--                    RLS or grants;
--   rls              per table of the trail (ops_audit.events and every attached
--                    partition, schema-qualified): {"enabled", "forced"};
--   bypassrls_roles  sorted roles with BYPASSRLS;
--   superusers       sorted superusers.
--
-- The head comes from ops_audit.chain_head. Everything downstream (the job, the
-- access review, `opshub audit verify --anchors`) reads only this output, so where
-- the head lives can change without them. Names are sorted in byte order (collate
-- "C"), as the job's canonical JSON sorts them.

-- SECURITY DEFINER so that the checkpoint login needs EXECUTE on this function and
-- nothing else: it reads no row of the trail and holds no privilege on chain_head.
-- The catalogs it reads are readable by every role anyway.
create or replace function ops_audit.checkpoint_state()
    returns jsonb
    language sql
    stable
    security definer
    set search_path = ''
as $$
    with recursive owner_members (member) as (
        select m.member
        from pg_catalog.pg_auth_members as m
        where m.roleid = 'ops_audit_owner'::pg_catalog.regrole
        union
        select m.member
        from pg_catalog.pg_auth_members as m
        join owner_members as o on m.roleid = o.member
    )
    select pg_catalog.jsonb_build_object(
        'chain_seq', h.last_seq,
        'row_hash', pg_catalog.encode(h.last_hash, 'hex'),
        'owner_members', (
            select coalesce(pg_catalog.jsonb_agg(r.rolname order by r.rolname collate "C"), '[]')
            from owner_members as o
            join pg_catalog.pg_roles as r on r.oid = o.member
        ),
        'rls', (
            select pg_catalog.jsonb_object_agg(
                t.relid::pg_catalog.regclass::pg_catalog.text,
                pg_catalog.jsonb_build_object('enabled', c.relrowsecurity, 'forced', c.relforcerowsecurity)
            )
            from pg_catalog.pg_partition_tree('ops_audit.events'::pg_catalog.regclass) as t
            join pg_catalog.pg_class as c on c.oid = t.relid
        ),
        'bypassrls_roles', (
            select coalesce(pg_catalog.jsonb_agg(r.rolname order by r.rolname collate "C"), '[]')
            from pg_catalog.pg_roles as r
            where r.rolbypassrls
        ),
        'superusers', (
            select coalesce(pg_catalog.jsonb_agg(r.rolname order by r.rolname collate "C"), '[]')
            from pg_catalog.pg_roles as r
            where r.rolsuper
        )
    )
    from ops_audit.chain_head as h
$$;

-- Owner-only, plus the checkpoint group its login inherits (infra/derive/audit.py).
revoke all on function ops_audit.checkpoint_state() from public;
grant execute on function ops_audit.checkpoint_state() to ops_audit_checkpoint;
