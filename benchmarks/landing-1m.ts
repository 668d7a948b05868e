// Landing throughput and memory: generates a JSONL file of N records (default 1,000,000; --quick 50,000),
// lands it with the real Loader into a real SQLite bronze (no embedding), and reports records/s and
// peak RSS (target < 400 MB: the loader streams and flushes every 5,000 records).
// Usage: npm run bench:landing [-- --quick] [-- --records N] [-- --synchronous NORMAL] [-- --out DIR]
import { once } from 'node:events';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { BronzeSql, SqliteBronze } from '../src/store/sqlite/bronze.js';
import { ContractSchema } from '../src/config/schema.js';
import { buildContract } from '../src/contract/contract.js';
import { openSqlite } from '../src/store/sqlite/db.js';
import { Loader } from '../src/landing/loader.js';
import { noFaults } from '../src/runtime/fault.js';
import { systemClock } from '../src/ports/clock.js';

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quick = argv.includes('--quick');
const records = Number(flag('records') ?? (quick ? 50_000 : 1_000_000));
const synchronous = (flag('synchronous') ?? 'FULL') as 'FULL' | 'NORMAL';
const outDir =
  flag('out') ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../benchmarks/results');
const RSS_TARGET_MB = 400;

const words =
  'river granite lantern orchard violin harbor comet meadow falcon copper glacier pepper castle desert engine forest garden island'.split(
    ' ',
  );

async function generate(file: string, n: number): Promise<void> {
  const out = createWriteStream(file);
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648);
  for (let i = 0; i < n; i++) {
    const text = Array.from({ length: 12 }, () => words[Math.floor(rnd() * words.length)]).join(' ');
    const line = `{"id":"doc-${i % Math.ceil(n * 0.9)}","version":${1 + Math.floor(i / (n * 0.9))},"event_time":"2026-03-01T10:00:00Z","text":"${text}","source":"bench","tags":["a","b"]}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

const mb = (b: number): number => Math.round((b / 1024 / 1024) * 10) / 10;

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seamline-bench-landing-'));
  try {
    const landing = path.join(dir, 'landing');
    mkdirSync(landing);
    const file = path.join(landing, 'big.jsonl');
    const g0 = Date.now();
    await generate(file, records);
    const genMs = Date.now() - g0;
    const st = statSync(file);
    const db = openSqlite(path.join(dir, 'data', 'seamline.db'), { synchronous, busyTimeoutMs: 5000 });
    const bronze = new SqliteBronze(new BronzeSql(db));
    const contract = buildContract(
      ContractSchema.parse({ metadata: { source: 'string', tags: 'string[]' } }),
    );
    const loader = new Loader(
      { bronze, contract, clock: systemClock, logger: pino({ level: 'silent' }), fault: noFaults },
      {
        maxLineBytes: 10 * 1024 * 1024,
        quarantineRawBytes: 4096,
        afterLanding: 'keep',
        archiveDir: path.join(dir, 'archive'),
      },
    );
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 25);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const out = await loader.land(
      { rel: 'big.jsonl', abs: file, format: 'jsonl', size: st.size, mtimeMs: st.mtimeMs },
      null,
      null,
      null,
    );
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    if (out.kind !== 'landed') throw new Error(`unexpected outcome ${out.kind}`);
    const f = out.file;
    const bronzeRows = (db.prepare('SELECT COUNT(*) AS n FROM bronze').get() as { n: number }).n;
    db.close();
    const result = {
      kind: 'landing',
      quick,
      at: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        totalMemMb: mb(os.totalmem()),
        node: process.version,
        platform: `${os.platform()} ${os.release()}`,
      },
      sqliteSynchronous: synchronous,
      records,
      fileBytes: st.size,
      fileMb: mb(st.size),
      generateSeconds: genMs / 1000,
      landSeconds: Math.round(seconds * 100) / 100,
      recordsPerSecond: Math.round(records / seconds),
      // Main-thread CPU time: independent of other processes competing for the cores (wall time is not).
      cpuSeconds: Math.round(cpuSeconds * 100) / 100,
      recordsPerCpuSecond: Math.round(records / cpuSeconds),
      loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100,
      mbPerSecond: Math.round((st.size / 1024 / 1024 / seconds) * 10) / 10,
      rssBeforeMb: mb(rssBefore),
      peakRssMb: mb(peak),
      maxRssMbProcess: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
      rssTargetMb: RSS_TARGET_MB,
      withinTarget: mb(peak) < RSS_TARGET_MB,
      accounting: {
        state: f.state,
        read: f.recordsRead,
        landed: f.recordsLanded,
        quarantined: f.recordsQuarantined,
        bronzeRows,
      },
    };
    if (f.recordsRead !== records || f.recordsLanded !== records || bronzeRows !== records)
      throw new Error(`accounting mismatch: ${JSON.stringify(result.accounting)}`);
    mkdirSync(outDir, { recursive: true });
    const outFile = path.join(
      outDir,
      `landing-${quick ? 'quick' : '1m'}-${result.at.replace(/[:.]/g, '-')}.json`,
    );
    writeFileSync(outFile, JSON.stringify(result, null, 2) + '\n');
    console.log(
      `landed ${records.toLocaleString('en')} records (${result.fileMb} MB) in ${result.landSeconds} s: ${result.recordsPerSecond.toLocaleString('en')} records/s, ${result.mbPerSecond} MB/s`,
    );
    console.log(
      `CPU ${result.cpuSeconds} s → ${result.recordsPerCpuSecond.toLocaleString('en')} records per CPU-second (load average ${result.loadAverage1m} on ${result.machine.cpus} cores)`,
    );
    console.log(
      `peak RSS ${result.peakRssMb} MB (process max ${result.maxRssMbProcess} MB; before landing ${result.rssBeforeMb} MB; target < ${RSS_TARGET_MB} MB): ${result.withinTarget ? 'OK' : 'OVER TARGET'}`,
    );
    console.log(`wrote ${outFile}`);
    if (!result.withinTarget) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
