import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

/**
 * Every SQL statement of the stores lives in a store adapter (src/store/sqlite/, later src/store/postgres/):
 * services reach the database only through the ports in src/ports/ (docs/architecture.md). This scans
 * the TypeScript sources for database calls and SQL statements in string literals.
 */

const ROOT = path.resolve(import.meta.dirname, '../../../../src');
/** Folders whose files are store adapters: SQL belongs there. */
const ADAPTER_DIRS = ['store/sqlite/', 'store/postgres/'];

/** Not the database: files that build LanceDB filter expressions (SQL-like `where` strings). Exempt. */
const NOT_THE_DATABASE: Readonly<Record<string, string>> = {
  'store/sql.ts': 'LanceDB filter SQL (quoting of literals), not the database',
  'search/filter.ts': 'LanceDB filter SQL built from structured filters, not the database',
};

/**
 * moves with the harness branch: reindex jobs, optimize runs, leases and the writer lock get their own
 * ports and SQLite adapters there (issue 15, engineer harness). The lead deletes these entries at merge;
 * the last test fails when an entry is no longer needed, so the list cannot go stale.
 */
const MOVES_WITH_HARNESS: Readonly<Record<string, string>> = {};

/** A database call on a connection or statement (better-sqlite3 / pg style). */
const DB_CALL = /\.(prepare|pragma|transaction)\(|\b(db|sqlite|conn|client|pool)\.(exec|query)\(/;
/** SQL statements inside string literals. */
const SQL_TEXT =
  /['"`][^'"`]*\b(SELECT\s[\s\S]*?\sFROM\s|INSERT\s+(OR\s+\w+\s+)?INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|CREATE\s+(TABLE|INDEX)\s|ALTER\s+TABLE\s|DROP\s+TABLE\s)/;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** What a source file holds that only an adapter may: the first offending line of each kind. */
export function sqlFindings(source: string): string[] {
  const out: string[] = [];
  source.split('\n').forEach((line, i) => {
    const code = line.replace(/^\s*(\/\/|\*|\/\*).*$/, '');
    if (DB_CALL.test(code)) out.push(`${i + 1}: database call: ${line.trim()}`);
    else if (SQL_TEXT.test(code)) out.push(`${i + 1}: SQL text: ${line.trim()}`);
  });
  return out;
}

describe('architecture: SQL only in the store adapters', () => {
  const files = walk(ROOT).map((f) => path.relative(ROOT, f).split(path.sep).join('/'));

  it('the scanner sees SQL and database calls (it can fail)', () => {
    assert.deepEqual(sqlFindings("const n = 1;\nconst re = /x/.exec('y');"), []);
    assert.equal(sqlFindings("db.prepare('SELECT 1 FROM files').get();").length, 1);
    assert.equal(sqlFindings('const q = `UPDATE batches SET state = ?`;').length, 1);
    assert.equal(sqlFindings("const q = 'DELETE FROM bronze WHERE file_id = ?';").length, 1);
    assert.equal(sqlFindings('this.db.transaction(() => 1).immediate();').length, 1);
    assert.deepEqual(sqlFindings('// SELECT x FROM y in a comment'), []);
  });

  it('no file outside src/store/sqlite (and the allow-list) holds SQL or a database call', () => {
    const offenders: string[] = [];
    for (const rel of files) {
      if (ADAPTER_DIRS.some((d) => rel.startsWith(d)) || rel in NOT_THE_DATABASE || rel in MOVES_WITH_HARNESS)
        continue;
      const found = sqlFindings(readFileSync(path.join(ROOT, rel), 'utf8'));
      if (found.length > 0) offenders.push(`src/${rel}:\n  ${found.join('\n  ')}`);
    }
    assert.deepEqual(offenders, [], 'move these statements into a store adapter behind a port');
  });

  it('every allow-list entry is still needed (delete the ones that are not)', () => {
    const stale = Object.keys(MOVES_WITH_HARNESS).filter(
      (rel) => !files.includes(rel) || sqlFindings(readFileSync(path.join(ROOT, rel), 'utf8')).length === 0,
    );
    assert.deepEqual(stale, []);
  });
});
