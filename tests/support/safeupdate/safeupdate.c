/*
 * safeupdate: a test stand-in for pg-safeupdate, the module Supabase preloads
 * for PostgREST's login (supabase/postgres migration
 * 20220118070449_enable-safeupdate-postgrest.sql:
 * ALTER ROLE authenticator SET session_preload_libraries = 'safeupdate').
 *
 * Written for this repository's tests from pg-safeupdate's documented rule,
 * not from its source: once loaded, every UPDATE or DELETE that reaches parse
 * analysis without a WHERE clause fails with SQLSTATE 21000 and the message
 * "UPDATE requires a WHERE clause" (or DELETE). Parse analysis sees top-level
 * statements, statements inside data-modifying WITH clauses, and every
 * statement PL/pgSQL or SQL functions prepare, so trigger bodies are checked
 * too. `safeupdate.enabled` (default on) switches it off per session, as
 * pg-safeupdate's setting of that name does.
 *
 * Built with PGXS at test time (tests/support/pgcluster.py) and loaded from a
 * temporary directory through dynamic_library_path; never installed.
 */
#include "postgres.h"

#include "fmgr.h"
#include "nodes/nodeFuncs.h"
#include "parser/analyze.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void _PG_init(void);

static bool enabled = true;
static post_parse_analyze_hook_type previous_hook = NULL;

/* Refuses `query` when it is an UPDATE or DELETE whose jointree has no qualifier. */
static void
require_where(Query *query)
{
	ListCell   *cell;

	/* WITH d AS (DELETE FROM t) SELECT ...: each modifying CTE is a Query of its own. */
	foreach(cell, query->cteList)
	{
		CommonTableExpr *cte = lfirst_node(CommonTableExpr, cell);

		if (IsA(cte->ctequery, Query))
			require_where((Query *) cte->ctequery);
	}

	if (query->commandType != CMD_UPDATE && query->commandType != CMD_DELETE)
		return;
	if (query->jointree != NULL && query->jointree->quals != NULL)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_CARDINALITY_VIOLATION),
			 errmsg("%s requires a WHERE clause",
					query->commandType == CMD_UPDATE ? "UPDATE" : "DELETE")));
}

static void
check_statement(ParseState *pstate, Query *query, JumbleState *jstate)
{
	if (previous_hook)
		previous_hook(pstate, query, jstate);
	if (enabled)
		require_where(query);
}

void
_PG_init(void)
{
	DefineCustomBoolVariable("safeupdate.enabled",
							 "Refuse UPDATE and DELETE statements without a WHERE clause.",
							 NULL, &enabled, true, PGC_USERSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("safeupdate");
	previous_hook = post_parse_analyze_hook;
	post_parse_analyze_hook = check_statement;
}
