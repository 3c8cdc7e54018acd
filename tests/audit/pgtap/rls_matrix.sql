-- RLS matrix of ops_audit.events, in pgTAP (run by tests/audit/test_pgtap.py with pg_prove).
-- Each block acts as PostgREST does: the login role `authenticator`, then the
-- request's role and JWT claims set for the transaction only. The claims
-- namespace is the prod stack's (https://ops.clarivum.com).
begin;
select plan(27);

-- ops-sre: appends as itself, never as someone else, sees only its own rows.
set local role authenticator;
set local role authenticated;
select set_config('request.jwt.claims', '{"sub": "auth0|sre", "role": "authenticated", "https://ops.clarivum.com/roles": ["ops-sre"]}', true);
select lives_ok($$insert into ops_audit.events (action, target) values ('incidents:ack', 'INC-1')$$, 'ops-sre appends');
select throws_ok($$insert into ops_audit.events (actor_sub, action, target) values ('auth0|admin', 'incidents:ack', 'INC-1')$$,
                 '42501', null, 'ops-sre cannot append as someone else');
select throws_ok($$insert into ops_audit.events (action, target, occurred_at) values ('incidents:ack', 'INC-1', now())$$,
                 '42501', null, 'ops-sre cannot choose occurred_at');
select throws_ok($$update ops_audit.events set target = 'x'$$, '42501', null, 'ops-sre cannot update');
select throws_ok($$delete from ops_audit.events$$, '42501', null, 'ops-sre cannot delete');
select throws_ok($$truncate ops_audit.events$$, '42501', null, 'ops-sre cannot truncate');
reset role;

-- ops-admin: appends; sees everything.
set local role authenticator;
set local role authenticated;
select set_config('request.jwt.claims', '{"sub": "auth0|admin", "role": "authenticated", "https://ops.clarivum.com/roles": ["ops-admin"]}', true);
select lives_ok($$insert into ops_audit.events (action, target) values ('integrations:update', 'stripe')$$, 'ops-admin appends');
select throws_ok($$insert into ops_audit.events (action, target) values ('incidents:ack', 'INC-1')$$,
                 '42501', null, 'ops-admin cannot record an action whose permission it lacks');
select throws_ok($$insert into ops_audit.events (action, target) values ('incidents:delete', 'INC-1')$$,
                 '22023', null, 'an action outside the catalogue is refused');
select results_eq($$select distinct actor_sub from ops_audit.events order by 1$$,
                  $$values ('auth0|admin'), ('auth0|sre')$$, 'ops-admin sees every actor');
reset role;

-- ops-sre again: only its own row.
set local role authenticator;
set local role authenticated;
select set_config('request.jwt.claims', '{"sub": "auth0|sre", "role": "authenticated", "https://ops.clarivum.com/roles": ["ops-sre"]}', true);
select results_eq($$select actor_sub, actor_roles from ops_audit.events$$,
                  $$values ('auth0|sre', array['ops-sre'])$$, 'ops-sre sees only its own row, with server-set roles');
reset role;

-- ops-auditor: sees everything, holds no write it could use to change it.
set local role authenticator;
set local role authenticated;
select set_config('request.jwt.claims', '{"sub": "auth0|auditor", "role": "authenticated", "https://ops.clarivum.com/roles": ["ops-auditor"]}', true);
select is((select count(*) from ops_audit.events)::int, 2, 'ops-auditor sees every row');
select throws_ok($$delete from ops_audit.events$$, '42501', null, 'ops-auditor cannot delete');
reset role;

-- The same sub with claims that grant nothing: not even its own earlier row.
set local role authenticator;
set local role authenticated;
select set_config('request.jwt.claims', '{"sub": "auth0|sre", "role": "authenticated"}', true);
select is((select count(*) from ops_audit.events)::int, 0, 'missing roles claim: sees nothing');
select throws_ok($$insert into ops_audit.events (action, target) values ('a', 'b')$$, '42501', null, 'missing roles claim: cannot append');
select set_config('request.jwt.claims', '{"sub": "auth0|sre", "https://ops.clarivum.com/roles": "ops-sre"}', true);
select is((select count(*) from ops_audit.events)::int, 0, 'roles claim as a string: sees nothing');
select set_config('request.jwt.claims', '{"sub": "auth0|sre", "https://ops.clarivum.com/roles": {"ops-sre": true}}', true);
select is((select count(*) from ops_audit.events)::int, 0, 'roles claim as an object: sees nothing');
select set_config('request.jwt.claims', '{"sub": "auth0|sre", "https://ops.clarivum.com/roles": ["ops-sre "]}', true);
select is((select count(*) from ops_audit.events)::int, 0, 'look-alike role name: sees nothing');
select set_config('request.jwt.claims', '{"sub": "auth0|sre", "user_metadata": {"https://ops.clarivum.com/roles": ["ops-admin"]}}', true);
select is((select count(*) from ops_audit.events)::int, 0, 'roles in user_metadata: sees nothing');
reset role;

-- anon: no access to the schema at all.
set local role authenticator;
set local role anon;
select set_config('request.jwt.claims', '{"role": "anon"}', true);
select throws_ok($$select count(*) from ops_audit.events$$, '42501', null, 'anon cannot read');
select throws_ok($$insert into ops_audit.events (action, target) values ('a', 'b')$$, '42501', null, 'anon cannot append');
reset role;

-- service_role: BYPASSRLS, but no privilege on the trail and not its owner.
set local role authenticator;
set local role service_role;
select set_config('request.jwt.claims', '{"role": "service_role"}', true);
select throws_ok($$select count(*) from ops_audit.events$$, '42501', null, 'service_role cannot read');
select throws_ok($$update ops_audit.events set target = 'x'$$, '42501', null, 'service_role cannot update');
select throws_ok($$truncate ops_audit.events$$, '42501', null, 'service_role cannot truncate');
select throws_ok($$alter table ops_audit.events disable trigger all$$, '42501', null, 'service_role cannot disable the triggers');
reset role;

-- The superuser, triggers on: still append-only, partitions included.
select throws_ok($$update ops_audit.events set target = 'x'$$, '42501', null, 'superuser update is refused by the trigger');
select throws_ok(format('truncate ops_audit.%I', ops_audit.partition_name(current_date)), '42501', null,
                 'superuser truncate of a partition is refused by its own trigger');

select * from finish();
rollback;
