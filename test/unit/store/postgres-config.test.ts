import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/load.js';
import { SeamlineError } from '../../../src/errors/errors.js';
import { classifyPgError } from '../../../src/store/postgres/classify.js';
import { redactPgUrl } from '../../../src/store/postgres/url.js';

describe('db config key', () => {
  it('defaults to the embedded SQLite store', () => {
    const c = loadConfig({ env: {} });
    assert.equal(c.db.kind, 'sqlite');
    assert.equal(c.db.url, undefined);
  });

  it('postgres takes its URL from the file or the env override (keeping the password out of the file)', () => {
    const c = loadConfig({
      env: { SEAMLINE_DB__KIND: 'postgres', SEAMLINE_DB__URL: 'postgres://u:pw@db.internal:5432/seamline' },
    });
    assert.equal(c.db.kind, 'postgres');
    assert.equal(c.db.url, 'postgres://u:pw@db.internal:5432/seamline');
    assert.equal(c.db.poolMax, 8);
  });

  it('postgres without a URL, a URL with sqlite, or a non-postgres URL are CONFIG_INVALID naming db.url', () => {
    for (const env of [
      { SEAMLINE_DB__KIND: 'postgres' },
      { SEAMLINE_DB__URL: 'postgres://h/db' },
      { SEAMLINE_DB__KIND: 'postgres', SEAMLINE_DB__URL: 'mysql://h/db' },
    ])
      assert.throws(
        () => loadConfig({ env }),
        (e: unknown) =>
          e instanceof SeamlineError && e.code === 'CONFIG_INVALID' && /db\.url/.test(e.message),
        JSON.stringify(env),
      );
  });
});

describe('PostgreSQL URL redaction and error classification (pure)', () => {
  it('redacts the password, also in strings that are not valid URLs', () => {
    assert.equal(redactPgUrl('postgres://u:s3cret@h:5432/db'), 'postgres://u:***@h:5432/db');
    assert.equal(redactPgUrl('postgres://u@h/db'), 'postgres://u@h/db');
    assert.doesNotMatch(redactPgUrl('postgres://u:s3cret@h:notaport/db'), /s3cret/);
  });

  it('maps SQLSTATEs and socket errors to registry codes; SQL errors pass through', () => {
    const pgErr = (code: string) => Object.assign(new Error(`pg ${code}`), { code });
    const cls = (e: unknown) => classifyPgError(e, 'postgres://u:***@h/db');
    const code = (e: unknown) => (cls(e) as SeamlineError).code;
    assert.equal(code(pgErr('40001')), 'DB_CONFLICT');
    assert.equal(code(pgErr('40P01')), 'DB_CONFLICT');
    assert.equal(code(pgErr('55P03')), 'DB_CONFLICT');
    assert.equal(code(pgErr('57014')), 'DB_TIMEOUT');
    assert.equal(code(pgErr('53100')), 'DISK_FULL');
    assert.equal(code(pgErr('57P01')), 'DB_UNAVAILABLE');
    assert.equal(code(pgErr('08006')), 'DB_UNAVAILABLE');
    assert.equal(code(pgErr('ECONNREFUSED')), 'DB_UNAVAILABLE');
    assert.equal(code(new Error('Connection terminated unexpectedly')), 'DB_UNAVAILABLE');
    assert.equal((cls(pgErr('28P01')) as SeamlineError).retryable, false);
    const sqlBug = pgErr('42P01'); // undefined_table: our bug, not the store's
    assert.equal(cls(sqlBug), sqlBug);
    const unique = pgErr('23505');
    assert.equal(cls(unique), unique);
  });
});
