// What query_postgres lets through, decided on PostgreSQL's own parse tree
// (libpg_query, the server's grammar compiled to WebAssembly), never on the
// text: quoting, Unicode escapes, comments and dollar quotes are already
// resolved by the parser, so `"dblink_exec"(...)` and
// `U&"pg_cancel\005fbackend"(...)` are the names they really are. It allows
// rather than denies: exactly one statement, a query (SELECT, VALUES, TABLE,
// WITH of queries, EXPLAIN without ANALYZE); every node kind, function,
// operator and cast type must be on a list below. Anything else is refused
// with a named rule. `checkSqlTree` is pure (a table-driven test beside it);
// `checkSql` parses first.
import { parse } from 'libpg-query';

import { loadMigrations } from '../db/migrate.ts';

export type SqlRefusal = { rule: string; reason: string };

const words = (list: string) => new Set(list.trim().split(/\s+/));

/** Parse-tree nodes a read-only query may contain. */
const allowedNodes = new Set([
  'SelectStmt',
  'ResTarget',
  'ColumnRef',
  'A_Const',
  'A_Expr',
  'A_Star',
  'A_Indices',
  'A_Indirection',
  'A_ArrayExpr',
  'FuncCall',
  'NamedArgExpr',
  'TypeCast',
  'TypeName',
  'String',
  'Integer',
  'Float',
  'Boolean',
  'BitString',
  'List',
  'RangeVar',
  'JoinExpr',
  'RangeSubselect',
  'RangeFunction',
  'BoolExpr',
  'SubLink',
  'CaseExpr',
  'CaseWhen',
  'CoalesceExpr',
  'MinMaxExpr',
  'NullTest',
  'BooleanTest',
  'SortBy',
  'WindowDef',
  'CommonTableExpr',
  'WithClause',
  'SQLValueFunction',
  'RowExpr',
  'CollateClause',
  'GroupingSet',
  'Alias',
]);

/** Node kinds refused with a rule of their own, so the answer says what was wrong. */
const namedRefusals: Record<string, SqlRefusal> = {
  IntoClause: { rule: 'sql.select_into', reason: 'SELECT INTO creates a table' },
  LockingClause: {
    rule: 'sql.locking',
    reason: 'FOR UPDATE/SHARE takes row locks (a write)',
  },
  ParamRef: { rule: 'sql.parameter', reason: 'parameters ($1) are not accepted' },
  RangeTableSample: { rule: 'sql.node', reason: 'TABLESAMPLE is not accepted' },
};

/**
 * Built-in functions with no effect outside the query: aggregates, window
 * functions, time, text, math, JSON, arrays and sets, sizes and server facts.
 */
export const allowedFunctions = words(`
  count sum avg min max bool_and bool_or every string_agg array_agg json_agg jsonb_agg
  json_object_agg jsonb_object_agg stddev stddev_pop stddev_samp variance var_pop var_samp
  percentile_cont percentile_disc mode corr row_number rank dense_rank percent_rank cume_dist
  ntile lag lead first_value last_value nth_value now clock_timestamp statement_timestamp
  transaction_timestamp date_trunc date_part extract age to_char to_date to_timestamp
  to_number make_date make_time make_interval make_timestamp make_timestamptz justify_interval
  justify_days justify_hours date_bin timezone isfinite lower upper length char_length
  character_length octet_length substring substr btrim ltrim rtrim position strpos replace
  split_part concat concat_ws left right lpad rpad repeat reverse initcap format
  regexp_replace regexp_match regexp_matches regexp_split_to_array starts_with md5 encode
  translate ascii chr quote_ident quote_literal overlay to_hex like_escape abs ceil ceiling
  floor round trunc sqrt power pow exp ln log mod sign div width_bucket pi random greatest
  least coalesce nullif num_nulls num_nonnulls json_build_object jsonb_build_object
  json_build_array jsonb_build_array to_json to_jsonb row_to_json json_array_length
  jsonb_array_length json_typeof jsonb_typeof jsonb_pretty json_extract_path_text
  jsonb_extract_path_text json_array_elements jsonb_array_elements json_array_elements_text
  jsonb_array_elements_text json_each jsonb_each json_each_text jsonb_each_text
  json_object_keys jsonb_object_keys array_length cardinality unnest array_to_string
  string_to_array array_position array_remove array_append array_cat generate_series
  generate_subscripts pg_size_pretty pg_size_bytes pg_database_size pg_relation_size
  pg_total_relation_size pg_table_size pg_indexes_size version current_database
  pg_postmaster_start_time pg_is_in_recovery pg_last_xact_replay_timestamp pg_current_wal_lsn
  pg_wal_lsn_diff pg_typeof format_type gen_random_uuid host family masklen network
  similar_to_escape similar_escape overlaps array_upper array_lower array_dims bit_length
`);

/** Operators of the built-in types (A_Expr names). */
const allowedOperators = new Set([
  ...words(
    `= <> != < > <= >= + - * / % ^ || ~~ !~~ ~~* !~~* ~ ~* !~ !~* @> <@ && -> ->> #> #>> ? ?| ?& |/ @ & | # << >> <<= >>=`,
  ),
  'BETWEEN',
  'NOT BETWEEN',
  'BETWEEN SYMMETRIC',
  'NOT BETWEEN SYMMETRIC',
]);

/** Types a value may be cast to (no reg* types: they look names up; no user types: their input functions are code). */
const allowedTypes = words(`
  bool boolean int2 int4 int8 smallint integer int bigint numeric decimal float4 float8 real
  text varchar bpchar char name date time timetz timestamp timestamptz interval json jsonb
  uuid inet cidr macaddr bytea oid xid pg_lsn
`);

/** Catalog relations that hold secrets or server files even for a read-everything role. */
const refusedRelations = words(`
  pg_authid pg_shadow pg_user_mapping pg_user_mappings pg_largeobject pg_largeobject_metadata
  pg_statistic pg_hba_file_rules pg_ident_file_mappings pg_file_settings pg_stat_activity
  pg_subscription
`);

let wardenTables: Set<string> | undefined;
/** Warden's own tables, from its migrations: never read through query_postgres, wherever they are. */
export function wardenTableNames(): Set<string> {
  if (!wardenTables) {
    const names = new Set(['warden_migrations']);
    for (const m of loadMigrations())
      for (const hit of m.sql.matchAll(/CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"?(\w+)"?/gi))
        names.add(hit[1]!.toLowerCase());
    wardenTables = names;
  }
  return wardenTables;
}

const statementNames: Record<string, string> = {
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
  CopyStmt: 'COPY',
  DoStmt: 'DO',
  CallStmt: 'CALL',
  VariableSetStmt: 'SET',
  VariableShowStmt: 'SHOW',
  TransactionStmt: 'transaction control',
  CreateTableAsStmt: 'CREATE TABLE AS',
  PrepareStmt: 'PREPARE',
  ExecuteStmt: 'EXECUTE',
  DeclareCursorStmt: 'DECLARE',
  LockStmt: 'LOCK',
  ListenStmt: 'LISTEN',
  NotifyStmt: 'NOTIFY',
  LoadStmt: 'LOAD',
  VacuumStmt: 'VACUUM',
};

type Node = Record<string, unknown>;

const isObject = (v: unknown): v is Node => typeof v === 'object' && v !== null;

/** The names of a String list (funcname, TypeName.names, A_Expr.name, collname). */
function names(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((n) => (isObject(n) && isObject(n.String) ? String(n.String.sval ?? '') : '?'));
}

/** A name that is either bare or qualified by pg_catalog; otherwise undefined. */
function builtinName(parts: string[]): string | undefined {
  if (parts.length === 1) return parts[0];
  if (parts.length === 2 && parts[0] === 'pg_catalog') return parts[1];
  return undefined;
}

function checkFunction(node: Node): SqlRefusal | undefined {
  const parts = names(node.funcname);
  const name = builtinName(parts);
  if (name === undefined || !allowedFunctions.has(name))
    return {
      rule: 'sql.function',
      reason: `function ${parts.map((p) => JSON.stringify(p)).join('.')} is not on the allowlist of read-only built-ins`,
    };
  return undefined;
}

function checkType(node: Node): SqlRefusal | undefined {
  const parts = names(node.names);
  const name = builtinName(parts);
  if (name === undefined || !allowedTypes.has(name))
    return {
      rule: 'sql.type',
      reason: `type ${parts.join('.')} is not on the allowlist of cast types`,
    };
  return undefined;
}

function checkRelation(node: Node): SqlRefusal | undefined {
  const rel = String(node.relname ?? '').toLowerCase();
  if (wardenTableNames().has(rel))
    return { rule: 'sql.warden_table', reason: `${rel} is one of Warden's own tables` };
  if (refusedRelations.has(rel))
    return { rule: 'sql.relation', reason: `${rel} holds secrets or server files` };
  if (node.catalogname !== undefined)
    return { rule: 'sql.relation', reason: 'cross-database references are not accepted' };
  return undefined;
}

function checkOperator(node: Node): SqlRefusal | undefined {
  const parts = names(node.name);
  const op = builtinName(parts);
  if (op === undefined || !allowedOperators.has(op))
    return { rule: 'sql.operator', reason: `operator ${parts.join('.')} is not on the allowlist` };
  return undefined;
}

/** Walks every node of a query; the first refusal found, or undefined. */
function walk(value: unknown): SqlRefusal | undefined {
  if (Array.isArray(value)) {
    for (const v of value) {
      const r = walk(v);
      if (r) return r;
    }
    return undefined;
  }
  if (!isObject(value)) return undefined;
  for (const [key, child] of Object.entries(value)) {
    // Fields that hold a node inline, without its type name.
    if (key === 'intoClause') return namedRefusals.IntoClause;
    if (key === 'lockingClause') return namedRefusals.LockingClause;
    if (key === 'typeName' && isObject(child)) {
      const r = checkType(child);
      if (r) return r;
    }
    if (/^[A-Z]/.test(key) && isObject(child)) {
      if (key === 'CommonTableExpr') {
        const q = child.ctequery;
        if (isObject(q) && !('SelectStmt' in q)) {
          const kind = Object.keys(q)[0] ?? '?';
          return {
            rule: 'sql.data_modifying_cte',
            reason: `a WITH part may only be a query; got ${statementNames[kind] ?? kind}`,
          };
        }
      }
      const named = namedRefusals[key];
      if (named) return named;
      if (!allowedNodes.has(key))
        return {
          rule: statementNames[key] ? 'sql.statement_type' : 'sql.node',
          reason: statementNames[key]
            ? `${statementNames[key]} is not a query`
            : `${key} is not accepted in a read-only query`,
        };
      const own =
        key === 'FuncCall'
          ? checkFunction(child)
          : key === 'TypeName'
            ? checkType(child)
            : key === 'RangeVar'
              ? checkRelation(child)
              : key === 'A_Expr'
                ? checkOperator(child)
                : undefined;
      if (own) return own;
    }
    const r = walk(child);
    if (r) return r;
  }
  return undefined;
}

/** Decides on a parse tree (libpg_query's JSON): undefined when it may run. */
export function checkSqlTree(tree: { stmts?: { stmt?: unknown }[] }): SqlRefusal | undefined {
  const stmts = tree.stmts ?? [];
  if (stmts.length === 0) return { rule: 'sql.empty', reason: 'no statement' };
  if (stmts.length > 1)
    return { rule: 'sql.multiple_statements', reason: `${stmts.length} statements; send one` };
  const stmt = stmts[0]?.stmt;
  if (!isObject(stmt)) return { rule: 'sql.empty', reason: 'no statement' };
  const kind = Object.keys(stmt)[0] ?? '?';
  let query: unknown = stmt.SelectStmt;
  if (kind === 'ExplainStmt') {
    const explain = stmt.ExplainStmt as Node;
    const options = Array.isArray(explain.options) ? explain.options : [];
    for (const o of options) {
      const def = isObject(o) && isObject(o.DefElem) ? o.DefElem : undefined;
      const name = String(def?.defname ?? '');
      if (name === 'analyze')
        return { rule: 'sql.explain_analyze', reason: 'EXPLAIN ANALYZE runs the statement' };
      if (!['verbose', 'costs', 'settings', 'buffers', 'format', 'summary', 'wal'].includes(name))
        return { rule: 'sql.node', reason: `EXPLAIN option ${name} is not accepted` };
    }
    const inner = isObject(explain.query) ? explain.query : {};
    if (!('SelectStmt' in inner)) {
      const k = Object.keys(inner)[0] ?? '?';
      return {
        rule: 'sql.statement_type',
        reason: `EXPLAIN of ${statementNames[k] ?? k}: only queries may be explained`,
      };
    }
    query = inner.SelectStmt;
  } else if (kind !== 'SelectStmt') {
    return {
      rule: 'sql.statement_type',
      reason: `${statementNames[kind] ?? kind} is not a query: only SELECT, VALUES, TABLE, WITH and EXPLAIN run`,
    };
  }
  return walk({ SelectStmt: query });
}

/** Parses with PostgreSQL's grammar and decides: undefined when the statement may run. */
export async function checkSql(sql: unknown): Promise<SqlRefusal | undefined> {
  if (typeof sql !== 'string' || sql.trim() === '')
    return { rule: 'sql.empty', reason: 'no statement' };
  if (sql.length > 20_000) return { rule: 'sql.too_long', reason: 'longer than 20000 characters' };
  if (sql.includes('\0')) return { rule: 'sql.nul', reason: 'NUL byte' };
  let tree: { stmts?: { stmt?: unknown }[] };
  try {
    tree = (await parse(sql)) as { stmts?: { stmt?: unknown }[] };
  } catch (err) {
    return { rule: 'sql.syntax', reason: `does not parse: ${(err as Error).message}` };
  }
  return checkSqlTree(tree);
}
