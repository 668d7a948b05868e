import type { ContractRecord } from '../contract/types.js';
import type {
  BronzeWriter,
  FileLanding,
  FileRow,
  FileState,
  LandingCounts,
  QuarantineEntry,
  SliceRecord,
} from '../ports/bronze.js';

/**
 * A file being landed, over any bronze store. Records are written in slices as they stream (bounded
 * memory, short write transactions: `landSlice`), but stay invisible to the processor until `finish`
 * publishes the file (`finishFile`, one transaction); a crash leaves a 'landing' row whose records
 * `recoverLanding()` removes.
 */
export class LandingWriter implements FileLanding {
  private recordsBuf: SliceRecord[] = [];
  private quarantineBuf: QuarantineEntry[] = [];
  private read = 0;
  private landed = 0;
  private quarantined = 0;
  private seqFrom: number | null = null;
  private seqTo: number | null = null;

  constructor(
    private readonly bronze: Pick<BronzeWriter, 'landSlice' | 'finishFile'>,
    readonly fileId: number,
    private readonly nowMs: number,
    private readonly flushEvery = 5000,
  ) {}

  async addRecord(rec: ContractRecord, line: number, offset: number): Promise<void> {
    this.read += 1;
    this.recordsBuf.push({ rec, line, offset });
    if (this.recordsBuf.length >= this.flushEvery) await this.flush();
  }

  async addQuarantine(q: QuarantineEntry): Promise<void> {
    this.read += 1;
    this.quarantineBuf.push(q);
    if (this.quarantineBuf.length >= this.flushEvery) await this.flush();
  }

  counts(): LandingCounts {
    return {
      read: this.read,
      landed: this.landed + this.recordsBuf.length,
      quarantined: this.quarantined + this.quarantineBuf.length,
    };
  }

  async flush(): Promise<void> {
    const recs = this.recordsBuf;
    const qs = this.quarantineBuf;
    this.recordsBuf = [];
    this.quarantineBuf = [];
    if (recs.length === 0 && qs.length === 0) return;
    const r = await this.bronze.landSlice(this.fileId, recs, qs, this.nowMs);
    this.landed += recs.length;
    this.quarantined += qs.length;
    if (r.seqFrom !== null) {
      this.seqFrom ??= r.seqFrom;
      this.seqTo = r.seqTo;
    }
  }

  /** Makes the file's records visible (state verified/unverified), or discards them (incomplete/failed). */
  async finish(
    state: Exclude<FileState, 'landing'>,
    detail: string | null,
    newFields: readonly string[],
  ): Promise<FileRow> {
    await this.flush();
    return this.bronze.finishFile(
      this.fileId,
      state,
      detail,
      { read: this.read, landed: this.landed, quarantined: this.quarantined },
      this.seqFrom,
      this.seqTo,
      newFields,
    );
  }
}
