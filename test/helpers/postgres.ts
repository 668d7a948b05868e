import { randomBytes } from 'node:crypto';
import { PgDatabase, type PostgresOptions } from '../../src/store/postgres/connect.js';

/**
 * The URL of the real PostgreSQL the tests run against. `npm test` (scripts/run-tests.mjs) and .ci/run
 * start one with scripts/pg-test-server.mjs and export PG_TEST_URL. Without it the PostgreSQL
 * tests FAIL (issue 16: never skip), saying how to get a server.
 */
export function pgTestUrl(): string {
  const url = process.env.PG_TEST_URL;
  if (url) return url;
  const why = process.env.PG_TEST_ERROR;
  throw new Error(
    `no PostgreSQL test server: PG_TEST_URL is not set${why ? ` (the test runner could not start one: ${why})` : ''}. ` +
      'Run the tests with `npm test` (starts one), or start one yourself: ' +
      '`eval "$(node scripts/pg-test-server.mjs start)"` … `node scripts/pg-test-server.mjs stop`.',
  );
}

export const PG_TEST_OPTIONS: Omit<PostgresOptions, 'url'> = {
  poolMax: 4,
  statementTimeoutMs: 20_000,
  connectTimeoutMs: 5_000,
  idleInTransactionTimeoutMs: 30_000,
  applicationName: 'seamline-test',
};

/** Opens a pool on `url` with test settings (overridable). */
export function openPg(url: string, over: Partial<PostgresOptions> = {}): Promise<PgDatabase> {
  return PgDatabase.open({ ...PG_TEST_OPTIONS, url, ...over });
}

export interface ScratchDatabase {
  /** URL of a new, empty database on the test server. */
  readonly url: string;
  readonly name: string;
  /** Drops it (ends its sessions first). Idempotent. */
  drop(): Promise<void>;
}

/**
 * A new empty database per test (the test role has CREATEDB): tests never see each other's rows.
 * `icuLocale` gives it a linguistic default collation (production databases often have one; the test
 * cluster's default is C).
 */
export async function scratchDatabase(opts: { icuLocale?: string } = {}): Promise<ScratchDatabase> {
  const base = pgTestUrl();
  const name = `seamline_t_${randomBytes(6).toString('hex')}`;
  const admin = await openPg(base, { poolMax: 1 });
  try {
    const icu = opts.icuLocale
      ? ` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '${opts.icuLocale.replace(/[^A-Za-z0-9-]/g, '')}' LOCALE 'C'`
      : '';
    await admin.query(`CREATE DATABASE ${name}${icu}`);
  } finally {
    await admin.close();
  }
  const u = new URL(base);
  u.pathname = `/${name}`;
  let dropped = false;
  return {
    url: u.toString(),
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      const a = await openPg(base, { poolMax: 1 });
      try {
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.close();
      }
    },
  };
}
