import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, resolveLogFormat } from '../../../src/observability/logger.js';

function sink(): { stream: Writable & { write: Writable['write'] }; text: () => string } {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  return { stream, text: () => out };
}

const failure = (): Error =>
  new Error('merge failed', { cause: Object.assign(new Error('disk full'), { code: 'ENOSPC' }) });

describe('logger format', () => {
  it('auto is pretty on a terminal and JSON otherwise; explicit formats win', () => {
    assert.equal(resolveLogFormat('auto', true), 'pretty');
    assert.equal(resolveLogFormat('auto', false), 'json');
    assert.equal(resolveLogFormat('json', true), 'json');
    assert.equal(resolveLogFormat('pretty', false), 'pretty');
  });

  it('JSON when not a terminal: one object per line, err with type, stack and cause', () => {
    const s = sink();
    const log = createLogger('info', 'r1', 'test', { isTTY: false, destination: s.stream });
    log.error({ event: 'batch.failed', err: failure() }, 'batch failed');
    const line = JSON.parse(s.text().trim()) as Record<string, string> & {
      err: { type: string; message: string; stack: string; cause: { message: string; code: string } };
    };
    assert.equal(line.msg, 'batch failed');
    assert.equal(line.event, 'batch.failed');
    assert.equal(line.run_id, 'r1');
    assert.equal(line.component, 'test');
    assert.equal(line.err.type, 'Error');
    assert.equal(line.err.message, 'merge failed');
    assert.match(line.err.stack, /logger\.test\.js/);
    assert.equal(line.err.cause.message, 'disk full');
    assert.equal(line.err.cause.code, 'ENOSPC');
  });

  it('pretty on a terminal: readable lines with level, component, event, message and the stack', () => {
    const s = sink();
    const log = createLogger('info', 'r1', 'cli.run', {
      isTTY: true,
      colorize: false,
      destination: s.stream,
    });
    log.info({ event: 'http.listening', port: 7411 }, 'listening');
    log.error({ event: 'batch.failed', err: failure() }, 'batch failed');
    const out = s.text();
    assert.throws(() => JSON.parse(out.split('\n')[0]!));
    assert.match(
      out,
      /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: cli\.run http\.listening: listening \{"port":7411\}\n/,
    );
    assert.match(out, /ERROR: cli\.run batch\.failed: batch failed/);
    assert.match(out, /merge failed/);
    assert.match(out, /at .*logger\.test\.js/);
    assert.match(out, /disk full/);
  });

  it('log.format json on a terminal stays JSON', () => {
    const s = sink();
    const log = createLogger('info', 'r1', 'x', { isTTY: true, format: 'json', destination: s.stream });
    log.info({ event: 'e' }, 'm');
    assert.equal((JSON.parse(s.text()) as { msg: string }).msg, 'm');
  });
});
