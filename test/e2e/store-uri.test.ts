import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli, runJson, workspace, type Workspace } from '../helpers/cli.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SAMPLE = path.join(ROOT, 'config', 'sample');

/**
 * store.uri and store.storageOptions (issue 16: LanceDB on a place every worker reaches). A folder is
 * resolved like dataDir; an object-store URI and its options go to LanceDB unchanged.
 */
describe('store.uri: where the LanceDB tables live (subprocess CLI)', () => {
  const spaces: Workspace[] = [];
  after(() => spaces.forEach((w) => w.cleanup()));

  it('a folder: ingest writes the tables there (relative to the config file), search reads them back', async () => {
    const ws = workspace({ store: { uri: 'shared-lance' } });
    spaces.push(ws);
    for (const f of ['hello.jsonl', 'hello.manifest.json']) ws.drop(f, readFileSync(path.join(SAMPLE, f)));
    const r = await runCli(['ingest', '--once'], ws.env());
    assert.equal(r.code, 0, r.stderr);
    const shared = path.join(ws.dir, 'shared-lance');
    assert.ok(
      readdirSync(shared).some((n) => n.endsWith('.lance')),
      `no table in ${shared}: ${readdirSync(shared).join(',')}`,
    );
    assert.equal(existsSync(path.join(ws.data, 'lance')), false, 'nothing under dataDir/lance');
    const res = await runJson<{ results: { id: string }[] }>(['search', 'hello', '-k', '3'], ws.env());
    assert.ok(res.results.length > 0, JSON.stringify(res));
  });

  it('an object-store URI: LanceDB is given the storageOptions (it goes to the configured endpoint) and the failure is a clear error, not a crash', async () => {
    const ws = workspace({
      store: {
        uri: 's3://seamline-test/tables',
        storageOptions: {
          aws_endpoint: 'http://127.0.0.1:9',
          aws_access_key_id: 'test',
          aws_secret_access_key: 'test',
          aws_region: 'us-east-1',
          allow_http: 'true',
          client_max_retries: '0',
        },
      },
    });
    spaces.push(ws);
    const r = await runCli(['ingest', '--once'], ws.env(), 60_000);
    assert.notEqual(r.code, 0);
    assert.equal(r.signal, null, r.stderr);
    // Without the options LanceDB would ask AWS itself; the closed local port proves they arrived.
    assert.match(r.stderr, /127\.0\.0\.1:9/, r.stderr.slice(-2000));
    assert.doesNotMatch(r.stderr, /\n\s+at .*node:internal.*\n[\s\S]*Node\.js v/, 'an uncaught crash');
  });
});
