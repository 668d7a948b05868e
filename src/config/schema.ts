import { z } from 'zod';

/**
 * The single definition of every option and its default. docs/config.md is generated from this
 * schema (`npm run docs:config`) and a test fails when the two drift apart.
 */
const ms = (def: number, desc: string) => z.number().int().min(0).default(def).describe(desc);
const pos = (def: number, desc: string) => z.number().int().min(1).default(def).describe(desc);

export const MetadataType = z.enum([
  'string',
  'number',
  'integer',
  'boolean',
  'timestamp',
  'string[]',
  'json',
]);

export const ContractSchema = z
  .object({
    idField: z
      .string()
      .min(1)
      .default('id')
      .describe('Record field holding the stable id (string; numbers are converted).'),
    versionField: z
      .string()
      .min(1)
      .default('version')
      .describe('Record field holding the source version: a non-negative integer; higher wins.'),
    eventTimeField: z
      .string()
      .min(1)
      .default('event_time')
      .describe(
        'Record field holding the event time: ISO-8601 with a zone (Z or ±hh:mm). Zone-less is rejected.',
      ),
    textFields: z
      .array(z.string().min(1))
      .min(1)
      .default(['text'])
      .describe(
        'Fields joined (blank line between) into the text that is embedded. At least one must be non-empty unless op is delete.',
      ),
    opField: z
      .string()
      .min(1)
      .default('op')
      .describe('Optional record field: "upsert" (default) or "delete".'),
    metadata: z
      .record(z.string(), MetadataType)
      .default({})
      .describe(
        'Typed metadata fields: name → string | number | integer | boolean | timestamp | string[] | json. Missing metadata is null.',
      ),
    unknownFields: z
      .enum(['keep', 'drop', 'reject'])
      .default('keep')
      .describe(
        'What to do with fields the contract does not name: keep them in metadata.extra, drop them, or reject (quarantine) the record.',
      ),
    maxTextChars: pos(1_000_000, 'Records whose joined text is longer than this are quarantined.'),
  })
  .strict();

/** Quality gates of the processor (docs/processor.md). A failed gate leaves the batch unpublished and writes an incident. */
export const GatesSchema = z
  .object({
    maxQuarantineRatio: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe(
        'A batch fails when more than this share of the records read from its input files was quarantined. 1 disables the gate.',
      ),
    quarantineMinRecords: pos(
      100,
      'The quarantine gate judges a batch only when its input files read at least this many records (small files are too noisy).',
    ),
    outputFactor: z
      .number()
      .min(1)
      .default(20)
      .describe(
        'A batch fails when the rows it would change per input record exceed this many times the median of recent committed batches.',
      ),
    outputMinRows: pos(
      500,
      'The output anomaly gate judges a batch only when it would change at least this many rows.',
    ),
    outputWindow: pos(20, 'Recent committed batches the output anomaly gate compares with.'),
    outputMinHistory: pos(
      5,
      'The output anomaly gate needs at least this many recent batches before it judges.',
    ),
    waive: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Batch ids (as listed by status --json incidents) whose quarantine and output gates are skipped on the next run: the operator override after an incident. NaN / wrong-dimension vectors are never waived.',
      ),
  })
  .strict();

export const ConfigSchema = z
  .object({
    dataDir: z
      .string()
      .min(1)
      .default('./data')
      .describe(
        'Folder for seamline.db (bronze, ledger), lance/ (tables) and archive/. Relative to the config file.',
      ),
    landingDir: z
      .string()
      .min(1)
      .default('./landing')
      .describe('Folder watched for landing files. Relative to the config file.'),
    pipelineVersion: z
      .string()
      .min(1)
      .default('1')
      .describe('Recorded on every row; bump it when chunking or text normalization changes.'),
    model: z
      .object({
        id: z
          .string()
          .min(1)
          .default('local/glove-sif-100d')
          .describe(
            'transformers.js model id: a folder under modelsDir, or a hub id when allowRemote is true.',
          ),
        dtype: z
          .enum(['auto', 'fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'bnb4', 'q4f16'])
          .default('auto')
          .describe('ONNX weights variant; auto uses the model config default.'),
        modelsDir: z
          .string()
          .min(1)
          .optional()
          .describe(
            'Folder holding models in transformers.js layout. Default: the models/ folder shipped with seamline.',
          ),
        allowRemote: z
          .boolean()
          .default(false)
          .describe('Allow downloading from the Hugging Face hub when the model is not in modelsDir.'),
        threads: z
          .union([z.literal('auto'), z.number().int().min(1).max(64)])
          .default('auto')
          .describe(
            "ONNX Runtime intra-op threads in the embedding worker. 'auto' = the machine's cores (os.availableParallelism): a backfill uses the whole machine when it is free. Set a number to leave cores to other work; `npm run bench:recommend` prints the measured best.",
          ),
        spinning: z
          .boolean()
          .default(false)
          .describe(
            "Let ONNX Runtime's intra-op threads busy-wait for work between parallel sections (ORT's own default). Off: they sleep, leaving the core to the daemon's other lanes, landing and other processes while a call runs (a quarter faster when another process holds a core; on an idle machine the raw session's calls are 3-13% slower and the embedder's within noise; docs/decisions/embed-no-spinning.md). Turn on for a machine dedicated to a backfill.",
          ),
      })
      .strict()
      .prefault({}),
    embed: z
      .object({
        maxBatchTokens: pos(
          8192,
          'Token budget of one inference call (padded length × texts). Bounds memory.',
        ),
        maxBatchTexts: pos(64, 'At most this many texts in one inference call.'),
      })
      .strict()
      .prefault({}),
    chunking: z
      .object({
        maxTokens: pos(
          128,
          "Chunk size in model tokens. Texts longer than this are split on word boundaries measured with the model's tokenizer.",
        ),
        overlapTokens: z
          .number()
          .int()
          .min(0)
          .default(16)
          .describe('Tokens shared by consecutive chunks. Must be less than maxTokens.'),
      })
      .strict()
      .prefault({}),
    processor: z
      .object({
        triggerIntervalMs: ms(1000, 'How often the daemon plans the next micro-batch when idle.'),
        maxRecords: pos(2000, 'At most this many bronze records in one micro-batch.'),
        maxFiles: pos(50, 'At most this many landed files in one micro-batch.'),
        lanes: z
          .object({
            liveMaxFileRecords: pos(
              500,
              'Lane rule: a file with more records than this goes to the backlog lane (a large drop).',
            ),
            liveMaxAgeMs: ms(
              30_000,
              'Lane rule: a file that became complete longer ago than this when the processor first sees it goes to the backlog lane (late or old files).',
            ),
            liveMaxQueuedRecords: pos(
              2000,
              'Lane rule: once the live lane holds this many records not yet planned, further files go to the backlog lane (many files at once).',
            ),
            startupToBacklog: z
              .boolean()
              .default(true)
              .describe(
                'Lane rule: files last written before the process started (found at start-up) go to the backlog lane.',
              ),
          })
          .strict()
          .prefault({})
          .describe(
            'Which lane a landed file joins; the live lane is always served first (docs/processor.md#lanes).',
          ),
        backlog: z
          .object({
            timeBoxMs: pos(
              250,
              'Time box: each backlog batch is sized from the measured embedding throughput to embed for about this long, so a live file waits behind at most one such slice (plus its merge).',
            ),
            ingestTimeBoxMs: pos(
              5000,
              'Time box of backlog batches in `seamline ingest` (one-shot, writer lease held: no daemon is serving live files meanwhile), so each batch pays the fixed merge and lookup cost over more records. The daemon uses timeBoxMs.',
            ),
            initialRecords: pos(
              32,
              'Records of the first backlog batch, before any throughput was measured.',
            ),
            minRecords: pos(8, 'Smallest backlog batch (records), whatever the measured throughput.'),
            maxRecordsPerSecond: z
              .number()
              .min(0)
              .default(0)
              .describe('Throughput cap of the backlog lane in records per second (0 = no records cap).'),
            maxShare: z
              .number()
              .gt(0)
              .max(1)
              .default(0.9)
              .describe(
                "Throughput cap of the backlog lane as its largest share of the processor's time: after a backlog batch of d ms the lane rests d·(1−share)/share ms (1 = no rest). Live batches are never capped.",
              ),
            maxWaitMs: pos(
              10_000,
              'Anti-starvation: while the live lane is never idle, one backlog batch runs ahead of the next live batch once the backlog has waited this long.',
            ),
          })
          .strict()
          .prefault({})
          .describe('The backlog lane: time-boxed batches under an explicit throughput cap.'),
        freshness: z
          .object({
            objectiveMs: pos(
              2000,
              'Freshness objective: the live lane’s complete → searchable percentile (below) must stay at or under this.',
            ),
            percentile: z
              .number()
              .gt(0)
              .max(100)
              .default(99)
              .describe('Percentile of the freshness objective (e.g. 99 = p99).'),
            windowMs: pos(
              300_000,
              'The objective is evaluated over the files that became searchable in this window.',
            ),
            minSamples: pos(
              20,
              'Fewer live files than this in the window: the objective is not judged (too few to mean anything).',
            ),
          })
          .strict()
          .prefault({})
          .describe(
            'Freshness objective: when violated, /readyz reports degraded and status says which lane and stage.',
          ),
      })
      .strict()
      .prefault({}),
    gates: GatesSchema.prefault({}),
    contract: ContractSchema.prefault({}),
    completeness: z
      .object({
        stableWindowMs: ms(
          1000,
          'A file without a manifest is complete once its size and mtime have not changed for this long.',
        ),
        requireManifest: z
          .boolean()
          .default(false)
          .describe(
            'When true, files without a NAME.manifest.json wait (reported as waiting) instead of landing unverified.',
          ),
        openWriterCheck: z
          .enum(['auto', 'off'])
          .default('auto')
          .describe(
            'auto: on Linux, look under /proc for processes holding a candidate open for writing. A file held open is never complete; a file nobody holds open needs only closedQuietMs of quiet. off (or /proc unreadable): stableWindowMs applies, as status says.',
          ),
        closedQuietMs: ms(
          250,
          'With the open-writer check: a file no process holds open for writing is complete once unchanged (size, mtime) for this long. Danger: an in-place writer that closes and reopens between pieces must pause less than this (or write under a temporary name and rename).',
        ),
      })
      .strict()
      .prefault({}),
    landing: z
      .object({
        formats: z
          .array(z.enum(['jsonl', 'jsonl.gz', 'csv']))
          .default(['jsonl', 'jsonl.gz', 'csv'])
          .describe('Accepted landing formats.'),
        rescanIntervalMs: ms(5000, 'Periodic full scan of the landing folder (watch events are only hints).'),
        maxLineBytes: pos(
          10 * 1024 * 1024,
          'Lines longer than this are quarantined as LINE_TOO_LONG (memory bound).',
        ),
        quarantineRawBytes: pos(
          4096,
          'The raw line stored with a quarantined record is truncated to this many bytes.',
        ),
        afterLanding: z
          .enum(['archive', 'delete', 'keep'])
          .default('archive')
          .describe(
            'What happens to a landed source file: moved under dataDir/archive, deleted, or kept in place.',
          ),
        concurrency: pos(
          3,
          'Files landed at the same time, so one heavy file never holds back small ones. Memory grows with it (each landing buffers up to 5,000 records and one line of up to maxLineBytes).',
        ),
        maxInflatedBytes: pos(
          16 * 1024 * 1024 * 1024,
          'Per file: a file whose (decompressed) bytes exceed this is refused as incomplete with FILE_TOO_LARGE; nothing from it is published.',
        ),
        maxLines: pos(
          100_000_000,
          'Per file: a file with more lines than this (blank lines included) is refused as incomplete with TOO_MANY_LINES; nothing from it is published.',
        ),
        growthWatchMs: ms(
          3_600_000,
          'After landing, a file is watched this long for bytes appended after landing (kept, archived, or waiting to be deleted); a tail is landed as a continuation. With afterLanding delete, the file is removed only after this.',
        ),
        orphanManifestMs: ms(
          60_000,
          'A manifest with no data file and nothing landed under its name is reported as waiting for this long, then as orphan.',
        ),
      })
      .strict()
      .prefault({}),
    sqlite: z
      .object({
        synchronous: z
          .enum(['FULL', 'NORMAL'])
          .default('FULL')
          .describe(
            'SQLite synchronous pragma (WAL mode). FULL survives power loss; NORMAL only process crashes.',
          ),
        busyTimeoutMs: ms(
          5000,
          'How long a SQLite statement waits (blocking) for a lock held by another process: CLI commands and daemon start-up.',
        ),
        daemonBusyTimeoutMs: z
          .number()
          .int()
          .min(0)
          .max(1000)
          .default(20)
          .describe(
            "The daemon's busy wait once running. Kept short because the wait blocks the event loop (HTTP); a longer lock is waited out with asynchronous backoff (see retry).",
          ),
      })
      .strict()
      .prefault({}),
    db: z
      .object({
        kind: z
          .enum(['sqlite', 'postgres'])
          .default('sqlite')
          .describe(
            'Where bronze, ledger, key state, leases and the table registry live: sqlite (embedded, one machine: dataDir/seamline.db) or postgres (shared by several workers; docs/scale-out.md). The LanceDB tables live at store.uri (default dataDir/lance): with several workers, a place every worker reaches.',
          ),
        url: z
          .string()
          .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
          .optional()
          .describe(
            'With kind postgres, required: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…]. Keep the password out of the file with the env override SEAMLINE_DB__URL or PGPASSWORD; error messages never show it.',
          ),
        poolMax: pos(8, 'With kind postgres: connections per seamline process.'),
        statementTimeoutMs: pos(
          30_000,
          'With kind postgres: a statement running longer is cancelled by the server (DB_TIMEOUT, retryable); also bounds lock waits.',
        ),
        connectTimeoutMs: pos(
          10_000,
          'With kind postgres: how long opening a connection may take before DB_UNAVAILABLE.',
        ),
        idleInTransactionTimeoutMs: pos(
          60_000,
          'With kind postgres: the server ends a session idle inside a transaction this long (a hung worker then releases its row locks and claims).',
        ),
      })
      .strict()
      .superRefine((d, ctx) => {
        if (d.kind === 'postgres' && !d.url)
          ctx.addIssue({
            code: 'custom',
            path: ['url'],
            message: 'db.url is required when db.kind is postgres',
          });
        if (d.kind === 'sqlite' && d.url)
          ctx.addIssue({
            code: 'custom',
            path: ['url'],
            message: 'db.url is only used with db.kind postgres (set db.kind too, or remove db.url)',
          });
      })
      .prefault({}),
    verify: z
      .object({
        vectorSample: z
          .number()
          .int()
          .min(0)
          .default(64)
          .describe(
            "`seamline verify` re-embeds this many randomly sampled rows and checks each stored vector is the model's embedding of the stored text (0 = skip).",
          ),
      })
      .strict()
      .prefault({}),
    retry: z
      .object({
        baseMs: pos(
          200,
          'First delay after a failed daemon step (landing, processing); doubles per failure.',
        ),
        maxMs: pos(30_000, 'Longest delay between retries, and the wait after a non-retryable error.'),
        jitter: z
          .number()
          .min(0)
          .max(1)
          .default(0.5)
          .describe('Random fraction of each delay (0 none, 1 full jitter).'),
        stallAfterFailures: pos(
          3,
          'Consecutive retryable failures after which a lane counts as stalled (/readyz 503 + incident). A full disk stalls at once.',
        ),
      })
      .strict()
      .prefault({}),
    store: z
      .object({
        tableBaseName: z
          .string()
          .regex(/^[A-Za-z][A-Za-z0-9_]*$/)
          .default('records')
          .describe('Base name of LanceDB tables; versioned tables are named BASE_vN.'),
        uri: z
          .string()
          .min(1)
          .optional()
          .describe(
            'Where the LanceDB tables live. Default: dataDir/lance. A folder (relative paths resolve like dataDir) or an object-store URI LanceDB understands (s3://bucket/prefix, gs://…, az://…); with several workers (db.kind postgres), a place every worker reaches. docs/scale-out.md says what object-store commits need.',
          ),
        storageOptions: z
          .record(z.string(), z.string())
          .default({})
          .describe(
            "Passed unchanged to LanceDB's connect as storageOptions: credentials, region, endpoint for an object store (e.g. aws_region, aws_endpoint, aws_access_key_id). Prefer the store's own environment variables for secrets.",
          ),
      })
      .strict()
      .prefault({}),
    optimize: z
      .object({
        nice: z
          .number()
          .int()
          .min(0)
          .max(19)
          .default(10)
          .describe(
            'CPU priority of the optimize job (Unix nice, 0 = unchanged): compaction and index builds yield the cores to the daemon, so a live file does not wait behind them (docs/optimize.md#priority). Every thread is reniced at start.',
          ),
        intervalMs: pos(
          60_000,
          'How often the optimize job (jobs/optimize, `seamline optimize` without --once) runs a pass.',
        ),
        leaseTtlMs: pos(
          15_000,
          'Maintenance lease time-to-live; renewed every ttl/3 while held. A crashed optimizer frees it after this.',
        ),
        maxWriterPauseMs: pos(
          20_000,
          'The lease bound: the processor waits at most this long for maintenance before merging anyway. The optimizer stops starting new work when its critical section nears it.',
        ),
        drainWaitMs: pos(
          10_000,
          'How long the optimizer waits for the writer to finish its batch in flight and acknowledge the pause before it proceeds anyway.',
        ),
        maxConflictRetries: z
          .number()
          .int()
          .min(0)
          .default(3)
          .describe(
            'Retries of one maintenance action after a LanceDB commit conflict ("Rewrite preempted by Update"). Counted per run.',
          ),
        compactMinSmallFragments: pos(
          16,
          'Compact when the serving table has at least this many small fragments (query time grows with fragment count).',
        ),
        versionRetentionMs: ms(
          600_000,
          'Table versions older than this are pruned (never the current one, never a tagged one). Keep it well above the longest query.',
        ),
        keepRollbackTags: z
          .number()
          .int()
          .min(0)
          .default(1)
          .describe(
            'Each optimize pass tags the version it produced as a rollback point and keeps this many such tags (0 = none). Tagged versions block pruning of later versions.',
          ),
        annMinRows: pos(
          10_000,
          'Build the ANN vector index once the serving table has this many rows; below it exact search is fast enough.',
        ),
        maxIndexDeltas: pos(
          8,
          'Rebuild the vector index once it has this many delta segments: LanceDB folds new rows into a new delta each pass and does not compact fragments across deltas, so fragments would grow by one per pass.',
        ),
        annIndexType: z
          .enum(['hnsw_sq', 'ivf_pq'])
          .default('hnsw_sq')
          .describe(
            'ANN index type (cosine). hnsw_sq: IVF_HNSW_SQ with one partition, high recall; ivf_pq: smaller, slower to build, needs tuning for recall.',
          ),
        ftsIndex: z
          .boolean()
          .default(true)
          .describe(
            'Keep a full-text (BM25) index on text for fts/hybrid search; new rows are folded in by each pass.',
          ),
        retiredTableRetentionMs: ms(
          7 * 24 * 3600 * 1000,
          'Retired tables (replaced by a reindex) are dropped this long after retirement. The serving table and its rollback target are never dropped.',
        ),
      })
      .strict()
      .prefault({}),
    http: z
      .object({
        enabled: z
          .boolean()
          .default(true)
          .describe('Serve /healthz, /readyz, /metrics, /status and /search from the daemon.'),
        host: z
          .string()
          .min(1)
          .default('127.0.0.1')
          .describe('Bind address. Anything but loopback requires token.'),
        port: z
          .number()
          .int()
          .min(0)
          .max(65535)
          .default(7411)
          .describe('Bind port (0 = any free port, printed at start).'),
        token: z
          .string()
          .min(16)
          .optional()
          .describe(
            'Bearer token required on every request except /healthz. Required when host is not loopback.',
          ),
        maxBodyBytes: pos(65_536, 'Largest accepted request body; larger requests get 413.'),
        requestTimeoutMs: pos(
          15_000,
          'A request (headers, body and handling) that takes longer is answered 503/408 and closed.',
        ),
        maxConcurrentSearches: pos(
          4,
          'Searches served at once; more get 429 with Retry-After (bounds memory and embedding work).',
        ),
      })
      .strict()
      .prefault({}),
    search: z
      .object({
        defaultMode: z
          .enum(['vector', 'fts', 'hybrid'])
          .default('hybrid')
          .describe(
            'Search mode when a request names none (CLI, POST /search) and the mode the reindex nDCG gate scores by default.',
          ),
        rrfK: pos(
          60,
          'Reciprocal rank fusion constant k in w/(k + rank) for hybrid search with fusion "rrf". Larger flattens the rank weighting.',
        ),
        fusion: z
          .enum(['rrf', 'minmax'])
          .nullable()
          .default(null)
          .describe(
            "Hybrid fusion: weighted reciprocal rank fusion (rrf) or min-max normalized score fusion (minmax). null = the model's documented default (docs/retrieval.md).",
          ),
        vectorWeight: z
          .number()
          .min(0)
          .max(1)
          .nullable()
          .default(null)
          .describe(
            "Hybrid: weight of the vector side in [0, 1] (full-text gets 1 − this). null = the model's documented default (docs/retrieval.md). A request's weights override it.",
          ),
        hybridCandidates: pos(
          100,
          'Hybrid search fuses the top max(offset + k, this) documents of each side.',
        ),
        maxK: pos(100, 'Largest k (hits per page) a search may ask for.'),
        maxWindow: pos(1000, 'Largest offset + k: pagination reaches at most this many hits deep.'),
        passages: z
          .number()
          .int()
          .min(0)
          .max(5)
          .default(1)
          .describe(
            'Best-matching chunks returned as passages with each document hit (a request may ask 0–5).',
          ),
        maxQueryChars: pos(4096, 'Longest accepted query text.'),
        maxCandidates: pos(
          20000,
          'Most chunk rows one side reads to assemble offset + k documents; when hit, the response says partial.',
        ),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z
          .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
          .default('info')
          .describe('pino log level.'),
        format: z
          .enum(['auto', 'pretty', 'json'])
          .default('auto')
          .describe(
            'Log line format on stderr: `json` (one object per line, for collectors), `pretty` (human-readable), or `auto` (pretty when stderr is a terminal, else JSON).',
          ),
      })
      .strict()
      .prefault({}),
    reindex: z
      .object({
        maxRecordsPerSecond: z
          .number()
          .min(0)
          .default(500)
          .describe(
            'Throughput cap of a reindex build in records (ids) per second, so live ingest keeps its latency. 0 = no cap. `reindex --max-rps N` overrides it.',
          ),
        pageSize: pos(
          200,
          'Ids a reindex materializes per merge (one LanceDB version each). Bounds memory and the work a SIGKILL can lose.',
        ),
        maxCatchUpRounds: pos(
          50,
          'Catch-up rounds (batches the daemon committed meanwhile) before giving up on the swap; the job stays resumable.',
        ),
        progressLogIntervalMs: pos(
          5000,
          'When stderr is not a terminal, a progress log line is written this often.',
        ),
        gates: z
          .object({
            parity: z
              .boolean()
              .default(true)
              .describe(
                'Gate: every live id of the key state has its chunks 0..n-1 exactly once, at its winning bronze seq; no row for deleted ids.',
              ),
            vectors: z
              .boolean()
              .default(true)
              .describe('Gate: no NaN/infinite or wrong-dimension vector in the new table.'),
            overlapSample: z
              .number()
              .int()
              .min(0)
              .default(20)
              .describe(
                'Gate (model unchanged only): queries sampled from the corpus for the top-k overlap between old and new tables. 0 disables.',
              ),
            overlapK: pos(10, 'k of the top-k overlap gate.'),
            minOverlap: z
              .number()
              .min(0)
              .max(1)
              .default(0.8)
              .describe('Mean top-k overlap (0..1) the new table must reach against the old one.'),
            evaluationFile: z
              .string()
              .min(1)
              .optional()
              .describe(
                'Optional JSONL of {"query": "...", "relevant": ["id", ...] | {"id": grade}}: nDCG@10 is computed on old and new. Relative to the config file.',
              ),
            ndcgMode: z
              .enum(['vector', 'fts', 'hybrid'])
              .nullable()
              .default(null)
              .describe(
                'Search mode the nDCG gate scores old and new tables with (documents, through the search code the daemon serves). null = search.defaultMode, the serving mode.',
              ),
            maxNdcgDrop: z
              .number()
              .min(0)
              .max(1)
              .default(0.02)
              .describe(
                'The new table may score at most this much lower nDCG@10 than the old one on the evaluation file.',
              ),
            minNdcg: z
              .number()
              .min(0)
              .max(1)
              .default(0)
              .describe('Absolute floor for the new table nDCG@10 on the evaluation file (0 = no floor).'),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    shutdownDeadlineMs: ms(
      30_000,
      'On SIGTERM the batch in flight may take this long before the process exits anyway.',
    ),
  })
  .strict();

export type ConfigInput = z.input<typeof ConfigSchema>;
export type ParsedConfig = z.output<typeof ConfigSchema>;
export type ContractConfig = z.output<typeof ContractSchema>;
export type MetadataFieldType = z.output<typeof MetadataType>;
