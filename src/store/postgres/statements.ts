import { patchColumns } from '../rows.js';
import type { JobExpectation, JobListFilter, JobPatch } from '../types.js';
import { INSERT_COLUMNS, jobColumns, jobSelectList, resultArrays, SUMMARY_COLUMNS } from './rows.js';

export type SqlValue = string | number | boolean | null | readonly (string | number | null)[];

/** SQL text with its positional values. */
export interface Sql {
  readonly text: string;
  readonly values: SqlValue[];
}

/** Collects positional parameters: `add(v)` returns `$n`. */
class Params {
  readonly values: SqlValue[] = [];
  add(value: SqlValue): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** The statements whose text never changes, for one schema. */
export function fixedStatements(s: string) {
  return {
    insert: `INSERT INTO ${s}.jobs (${INSERT_COLUMNS}, version)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1)
      ON CONFLICT (job_id) DO NOTHING
      RETURNING ${jobColumns(`${s}.jobs`)}`,
    get: `SELECT ${jobSelectList(s, 'j')} FROM ${s}.jobs j WHERE j.job_id = $1`,
    errorDetail: `SELECT error_detail FROM ${s}.jobs WHERE job_id = $1`,
    delete: `DELETE FROM ${s}.jobs WHERE job_id = $1 RETURNING version`,
    claim: `SELECT ${jobSelectList(s, 'j')} FROM ${s}.claim_next($1, $2, $3, $4, $5, $6, $7) j`,
    renewLeases: `UPDATE ${s}.jobs SET lease_expires = $3
      WHERE job_id = ANY ($2::text[]) AND phase = 'EXECUTING' AND lease_node = $1
      RETURNING job_id`,
    expiredLeases: `SELECT ${jobSelectList(s, 'j')} FROM ${s}.jobs j
      WHERE j.phase = 'EXECUTING' AND j.lease_expires < $1
      ORDER BY j.lease_expires, j.job_id LIMIT $2`,
    dueForDestruction: `SELECT job_id, destruction FROM ${s}.jobs
      WHERE phase <> 'ARCHIVED' AND destruction IS NOT NULL AND destruction <= $1
      ORDER BY destruction, job_id LIMIT $2`,
    nextDestruction: `SELECT min(destruction) AS t FROM ${s}.jobs
      WHERE phase <> 'ARCHIVED' AND destruction IS NOT NULL`,
    jobIdsAfter: `SELECT job_id FROM ${s}.jobs WHERE job_id > $1 ORDER BY job_id LIMIT $2`,
    clearResults: `DELETE FROM ${s}.results WHERE job_id = $1`,
    addResults: addResultsSql(s, '$1', '$2', '$3', '$4', '$5', '$6'),
    now: `SELECT ${s}.now_ms() AS now`,
    changedSince: `SELECT job_id, phase, version, changed_at FROM ${s}.jobs
      WHERE (changed_at, job_id) > ($1, $2) ORDER BY changed_at, job_id LIMIT $3`,
    deletedSince: `SELECT d.job_id, max(d.version) AS version FROM ${s}.deleted_jobs d
      WHERE d.deleted_at >= $1 AND NOT EXISTS (SELECT 1 FROM ${s}.jobs j WHERE j.job_id = d.job_id)
      GROUP BY d.job_id ORDER BY max(d.deleted_at)`,
    pruneDeleted: `DELETE FROM ${s}.deleted_jobs WHERE deleted_at < ${s}.now_ms() - $1`,
  };
}

/**
 * Adds results, replacing those with the same id in place (ON CONFLICT keeps the
 * ordinal); new ones go after all present ones, in the order given.
 */
function addResultsSql(
  s: string,
  jobId: string,
  ids: string,
  mediaTypes: string,
  sizes: string,
  fileNames: string,
  hrefs: string,
  from = '',
): string {
  return `INSERT INTO ${s}.results (job_id, id, media_type, size, file_name, href, ordinal)
    SELECT ${jobId}, r.id, r.media_type, r.size, r.file_name, r.href,
           (SELECT coalesce(max(o.ordinal), 0) FROM ${s}.results o WHERE o.job_id = ${jobId}) + r.n
      FROM ${from}unnest(${ids}::text[], ${mediaTypes}::text[], ${sizes}::bigint[], ${fileNames}::text[], ${hrefs}::text[])
           WITH ORDINALITY AS r(id, media_type, size, file_name, href, n)
    ON CONFLICT (job_id, id) DO UPDATE SET media_type = excluded.media_type, size = excluded.size,
      file_name = excluded.file_name, href = excluded.href`;
}

/** The SET list and WHERE guard of a compare-and-set update. */
function casParts(jobId: string, expect: JobExpectation, patch: JobPatch, p: Params) {
  const set: string[] = [];
  const assign = (column: string, value: SqlValue) => set.push(`${column} = ${p.add(value)}`);
  for (const [column, value] of patchColumns(patch, (b) => b)) assign(column, value);
  const where = [`job_id = ${p.add(jobId)}`];
  if (expect.phase !== undefined) where.push(`phase = ${p.add(expect.phase)}`);
  if (expect.version !== undefined) where.push(`version = ${p.add(expect.version)}`);
  if (expect.leaseNodeId !== undefined) where.push(`lease_node = ${p.add(expect.leaseNodeId)}`);
  return { set, where };
}

/**
 * One compare-and-set UPDATE that also returns the whole changed job, results
 * included: a statement (and so a transaction) of its own. When the patch adds
 * results (without clearing), they are upserted by the same statement, and the
 * returned list is computed from the rows it wrote plus the untouched ones, since
 * a statement cannot read its own writes.
 */
export function casUpdateSql(s: string, jobId: string, expect: JobExpectation, patch: JobPatch): Sql {
  const p = new Params();
  const { set, where } = casParts(jobId, expect, patch, p);
  const updated = `UPDATE ${s}.jobs SET ${[...set, 'version = version + 1'].join(', ')}
      WHERE ${where.join(' AND ')} RETURNING ${jobColumns(`${s}.jobs`)}`;
  const add = patch.addResults ?? [];
  if (add.length === 0) {
    return { text: `WITH u AS (${updated}) SELECT ${jobSelectList(s, 'u')} FROM u`, values: p.values };
  }
  const a = resultArrays(add);
  const id = '(SELECT u.job_id FROM u)';
  const insert = addResultsSql(
    s,
    'u.job_id',
    p.add(a.ids),
    p.add(a.mediaTypes),
    p.add(a.sizes),
    p.add(a.fileNames),
    p.add(a.hrefs),
    'u, ',
  );
  const text = `WITH u AS (${updated}),
    ins AS (${insert} RETURNING id, media_type, size, file_name, href, ordinal),
    merged AS (
      SELECT id, media_type, size, file_name, href, ordinal FROM ins
      UNION ALL
      SELECT o.id, o.media_type, o.size, o.file_name, o.href, o.ordinal FROM ${s}.results o
       WHERE o.job_id = ${id} AND o.id NOT IN (SELECT id FROM ins))
    SELECT ${jobColumns('u')},
      (SELECT json_agg(json_build_array(m.id, m.media_type, m.size, m.file_name, m.href) ORDER BY m.ordinal)
         FROM merged m) AS results
    FROM u`;
  return { text, values: p.values };
}

/** The compare-and-set UPDATE alone, for the transaction that clears results first. */
export function casOnlySql(s: string, jobId: string, expect: JobExpectation, patch: JobPatch): Sql {
  const p = new Params();
  const { set, where } = casParts(jobId, expect, patch, p);
  const text = `UPDATE ${s}.jobs SET ${[...set, 'version = version + 1'].join(', ')}
    WHERE ${where.join(' AND ')} RETURNING version`;
  return { text, values: p.values };
}

function ownerCondition(ownerId: string | null | undefined, where: string[], p: Params): void {
  if (ownerId === null) where.push('owner_id IS NULL');
  else if (ownerId !== undefined) where.push(`owner_id = ${p.add(ownerId)}`);
}

/** One keyset page of the job list, newest first. */
export function listPageSql(
  s: string,
  filter: JobListFilter,
  before: JobListFilter['before'],
  limit: number,
): Sql {
  const p = new Params();
  const where: string[] = [];
  ownerCondition(filter.ownerId, where, p);
  if (filter.jobType !== undefined) where.push(`job_type = ${p.add(filter.jobType)}`);
  if (filter.phases === undefined) where.push("phase <> 'ARCHIVED'");
  else if (filter.phases.length === 1) where.push(`phase = ${p.add(filter.phases[0]!)}`);
  else where.push(`phase = ANY (${p.add(filter.phases)}::text[])`);
  if (filter.after !== undefined) where.push(`creation_time > ${p.add(filter.after)}`);
  if (before !== undefined) {
    where.push(`(creation_time, job_id) < (${p.add(before.creationTime)}, ${p.add(before.jobId)})`);
  }
  const text = `SELECT ${SUMMARY_COLUMNS} FROM ${s}.jobs WHERE ${where.join(' AND ')}
    ORDER BY creation_time DESC, job_id DESC LIMIT ${p.add(limit)}`;
  return { text, values: p.values };
}

export function countByPhaseSql(s: string, filter: { ownerId?: string | null; jobType?: string }): Sql {
  const p = new Params();
  const where: string[] = [];
  ownerCondition(filter.ownerId, where, p);
  if (filter.jobType !== undefined) where.push(`job_type = ${p.add(filter.jobType)}`);
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  return {
    text: `SELECT phase, count(*)::integer AS n FROM ${s}.jobs ${clause} GROUP BY phase`,
    values: p.values,
  };
}
