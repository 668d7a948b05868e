import { z } from 'zod';

/**
 * The single definition of every option and its default. docs/config.md is generated from this
 * schema (`npm run docs:config`) and a test fails when the two drift apart.
 */
const ms = (def: number, desc: string) => z.number().int().min(0).default(def).describe(desc);
const pos = (def: number, desc: string) => z.number().int().min(1).default(def).describe(desc);

export const MetadataType = z.enum(['string', 'number', 'integer', 'boolean', 'timestamp', 'string[]', 'json']);

export const ContractSchema = z
  .object({
    idField: z.string().min(1).default('id').describe('Record field holding the stable id (string; numbers are converted).'),
    versionField: z
      .string()
      .min(1)
      .default('version')
      .describe('Record field holding the source version: a non-negative integer; higher wins.'),
    eventTimeField: z
      .string()
      .min(1)
      .default('event_time')
      .describe('Record field holding the event time: ISO-8601 with a zone (Z or ±hh:mm). Zone-less is rejected.'),
    textFields: z
      .array(z.string().min(1))
      .min(1)
      .default(['text'])
      .describe('Fields joined (blank line between) into the text that is embedded. At least one must be non-empty unless op is delete.'),
    opField: z.string().min(1).default('op').describe('Optional record field: "upsert" (default) or "delete".'),
    metadata: z
      .record(z.string(), MetadataType)
      .default({})
      .describe('Typed metadata fields: name → string | number | integer | boolean | timestamp | string[] | json. Missing metadata is null.'),
    unknownFields: z
      .enum(['keep', 'drop', 'reject'])
      .default('keep')
      .describe('What to do with fields the contract does not name: keep them in metadata.extra, drop them, or reject (quarantine) the record.'),
    maxTextChars: pos(1_000_000, 'Records whose joined text is longer than this are quarantined.'),
  })
  .strict();

export const ConfigSchema = z
  .object({
    dataDir: z.string().min(1).default('./data').describe('Folder for seamline.db (bronze, ledger), lance/ (tables) and archive/. Relative to the config file.'),
    landingDir: z.string().min(1).default('./landing').describe('Folder watched for landing files. Relative to the config file.'),
    pipelineVersion: z.string().min(1).default('1').describe('Recorded on every row; bump it when chunking or text normalization changes.'),
    model: z
      .object({
        id: z.string().min(1).default('local/glove-sif-100d').describe('transformers.js model id: a folder under modelsDir, or a hub id when allowRemote is true.'),
        dtype: z.enum(['auto', 'fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'bnb4', 'q4f16']).default('auto').describe('ONNX weights variant; auto uses the model config default.'),
        modelsDir: z.string().min(1).optional().describe('Folder holding models in transformers.js layout. Default: the models/ folder shipped with seamline.'),
        allowRemote: z.boolean().default(false).describe('Allow downloading from the Hugging Face hub when the model is not in modelsDir.'),
        threads: z.number().int().min(1).max(64).default(1).describe('ONNX Runtime intra-op threads in the embedding worker.'),
      })
      .strict()
      .prefault({}),
    embed: z
      .object({
        maxBatchTokens: pos(8192, 'Token budget of one inference call (padded length × texts). Bounds memory.'),
        maxBatchTexts: pos(64, 'At most this many texts in one inference call.'),
      })
      .strict()
      .prefault({}),
    chunking: z
      .object({
        maxTokens: pos(128, "Chunk size in model tokens. Texts longer than this are split on word boundaries measured with the model's tokenizer."),
        overlapTokens: z.number().int().min(0).default(16).describe('Tokens shared by consecutive chunks. Must be less than maxTokens.'),
      })
      .strict()
      .prefault({}),
    processor: z
      .object({
        triggerIntervalMs: ms(1000, 'How often the daemon plans the next micro-batch when idle.'),
        maxRecords: pos(2000, 'At most this many bronze records in one micro-batch.'),
        maxFiles: pos(50, 'At most this many landed files in one micro-batch.'),
      })
      .strict()
      .prefault({}),
    contract: ContractSchema.prefault({}),
    completeness: z
      .object({
        stableWindowMs: ms(1000, 'A file without a manifest is complete once its size and mtime have not changed for this long.'),
        requireManifest: z.boolean().default(false).describe('When true, files without a NAME.manifest.json wait (reported as waiting) instead of landing unverified.'),
      })
      .strict()
      .prefault({}),
    landing: z
      .object({
        formats: z.array(z.enum(['jsonl', 'jsonl.gz', 'csv'])).default(['jsonl', 'jsonl.gz', 'csv']).describe('Accepted landing formats.'),
        rescanIntervalMs: ms(5000, 'Periodic full scan of the landing folder (watch events are only hints).'),
        maxLineBytes: pos(10 * 1024 * 1024, 'Lines longer than this are quarantined as LINE_TOO_LONG (memory bound).'),
        quarantineRawBytes: pos(4096, 'The raw line stored with a quarantined record is truncated to this many bytes.'),
        afterLanding: z.enum(['archive', 'delete', 'keep']).default('archive').describe('What happens to a landed source file: moved under dataDir/archive, deleted, or kept in place.'),
      })
      .strict()
      .prefault({}),
    sqlite: z
      .object({
        synchronous: z.enum(['FULL', 'NORMAL']).default('FULL').describe('SQLite synchronous pragma (WAL mode). FULL survives power loss; NORMAL only process crashes.'),
        busyTimeoutMs: ms(5000, 'How long a SQLite statement waits for a lock held by another process.'),
      })
      .strict()
      .prefault({}),
    store: z
      .object({
        tableBaseName: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/).default('records').describe('Base name of LanceDB tables; versioned tables are named BASE_vN.'),
      })
      .strict()
      .prefault({}),
    http: z
      .object({
        enabled: z.boolean().default(true).describe('Serve /healthz, /readyz, /metrics, /status and /search from the daemon.'),
        host: z.string().min(1).default('127.0.0.1').describe('Bind address. Anything but loopback requires token.'),
        port: z.number().int().min(0).max(65535).default(7411).describe('Bind port (0 = any free port, printed at start).'),
        token: z.string().min(16).optional().describe('Bearer token required on every request except /healthz. Required when host is not loopback.'),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level.'),
      })
      .strict()
      .prefault({}),
    shutdownDeadlineMs: ms(30_000, 'On SIGTERM the batch in flight may take this long before the process exits anyway.'),
  })
  .strict();

export type ConfigInput = z.input<typeof ConfigSchema>;
export type ParsedConfig = z.output<typeof ConfigSchema>;
export type ContractConfig = z.output<typeof ContractSchema>;
export type MetadataFieldType = z.output<typeof MetadataType>;
