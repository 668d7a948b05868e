import type { PreTrainedTokenizer } from '@huggingface/transformers';

/** Token ids of one inference call, padded and ready for the model (int64, rows × width). */
export interface PackedBatch {
  readonly inputIds: BigInt64Array;
  readonly attentionMask: BigInt64Array;
  /** Present when the tokenizer emits token type ids (all zero for single sequences). */
  readonly tokenTypeIds: BigInt64Array | null;
  readonly rows: number;
  readonly width: number;
  /** Real (unpadded) tokens, special tokens included. */
  readonly real: number;
}

type Encoded = { input_ids: number[]; attention_mask: number[]; token_type_ids?: number[] };
type Tok = (text: string | string[], opts: Record<string, unknown>) => unknown;

/** Entry of the word cache: the word's ids (safe to concatenate) or only its count (must not be). */
type WordEntry = number[] | number;

export const WORD_CACHE_MAX = 200_000;

/**
 * Texts the encoder checks itself on at start: words that a tokenizer could merge across a space
 * (frequent pairs, punctuation, digits, accents, CJK, emoji, symbols NFKC turns into spaces).
 */
export const PROBE_TEXTS: readonly string[] = [
  'Of the many cells in the body, T cells are the ones that remember.',
  'in a way that is not at all what it was, and so on; it is to be or not to be.',
  'BRCA1-associated RING domain (BARD1) mutations: 3.5% vs. 12,000 cases (p<0.001)!',
  'Naïve café résumé coöperate Ångström São Paulo Zürich ½ ⅔ ² ﬁne',
  '東京 大学 研究 αβγ δ-catenin NF-κB IL-6/STAT3 ✓ 🙂 👍🏽',
  "don't won't it's U.S.A. e.g. i.e. ... -- — “quoted” 'single' [brackets] {braces} <tags>",
  'CO2 H2O 10mg/kg 37°C 2×10⁶ x86_64 foo@bar.com http://example.org/a?b=c#d',
  'a',
  'A B C D E F G H I J K L M N O P Q R S T U V W X Y Z',
];

/**
 * Turns text into model token ids once: every word is tokenized the first time it is seen (to count
 * it for chunking) and its ids are kept, so embedding a chunk concatenates the ids the chunker counted
 * instead of tokenizing the chunk again. Exact only for tokenizers whose output on "a b" is
 * ids(a) + ids(b) (WordPiece after a whitespace pre-tokenizer; SentencePiece Unigram whose pieces
 * never hold an inner word boundary): the constructor checks that on PROBE_TEXTS and turns itself
 * off (every text tokenized whole, as transformers.js would) when it does not hold. Words whose
 * normalized form holds whitespace, empty words (double spaces) and texts the checker refused are
 * tokenized whole too.
 */
export class TokenEncoder {
  /** True when embedding reuses the ids counted at chunking (the check on PROBE_TEXTS passed). */
  readonly tokenizeOnce: boolean;
  private readonly cache = new Map<string, WordEntry>();
  private readonly prefix: number[] = [];
  private readonly suffix: number[] = [];
  private readonly hasTypeIds: boolean;
  private readonly padId: number;
  private readonly padLeft: boolean;
  private readonly maxLen: number;
  private readonly tok: Tok;
  /** Whether words need the in-context check (everything but WordPiece). */
  private readonly checkInContext: boolean;
  /** Piece string of each id (Unigram / BPE vocab), for the tie check; null when not exposed. */
  private readonly pieces: readonly string[] | null;
  /** Words tokenized (cache misses) and texts tokenized whole, since start. */
  readonly counters = { wordsTokenized: 0, textsTokenizedWhole: 0 };

  constructor(
    tokenizer: PreTrainedTokenizer,
    probe: readonly string[] = PROBE_TEXTS,
    private readonly cacheMax = WORD_CACHE_MAX,
  ) {
    this.tok = tokenizer;
    this.padId = tokenizer.pad_token_id ?? 0;
    this.padLeft = tokenizer.padding_side === 'left';
    const ml = Number(tokenizer.model_max_length);
    this.maxLen = Number.isFinite(ml) && ml > 0 ? ml : Number.MAX_SAFE_INTEGER;
    // WordPiece is greedy longest-match per pre-tokenized word: no tie to break, no context check.
    const inner = (
      tokenizer as unknown as {
        _tokenizer?: { model?: { config?: { type?: string }; vocab?: unknown } };
      }
    )._tokenizer;
    const greedy = inner?.model?.config?.type === 'WordPiece';
    this.checkInContext = !greedy;
    const vocab = inner?.model?.vocab;
    this.pieces = Array.isArray(vocab) && vocab.every((v) => typeof v === 'string') ? vocab : null;
    const full = this.whole('x');
    const bare = this.bare(['x'])[0]!;
    this.hasTypeIds = full.token_type_ids !== undefined;
    const at = indexOfSeq(full.input_ids, bare);
    // Without the vocab the tie check cannot run: only WordPiece is then trusted.
    let ok =
      at >= 0 &&
      bare.length > 0 &&
      (full.token_type_ids ?? []).every((t) => t === 0) &&
      (!this.checkInContext || this.pieces !== null);
    if (ok) {
      this.prefix = full.input_ids.slice(0, at);
      this.suffix = full.input_ids.slice(at + bare.length);
      this.tokenizeOnce = true;
      for (const text of probe) {
        const t = normalizeSpaces(text);
        if (!sameIds(this.fast(t), this.whole(t).input_ids)) ok = false;
      }
    }
    this.tokenizeOnce = ok;
    this.cache.clear();
    this.counters.wordsTokenized = 0;
    this.counters.textsTokenizedWhole = 0;
  }

  /** Words whose ids (or counts) are cached. */
  get cachedWords(): number {
    return this.cache.size;
  }

  /** Token count of each word (at least 1), as the chunker needs; remembers the ids. */
  wordCounts(words: readonly string[]): Int32Array {
    this.fill(words);
    const out = new Int32Array(words.length);
    for (let i = 0; i < words.length; i++) {
      const e = this.cache.get(words[i]!);
      out[i] = Math.max(1, e === undefined ? 1 : typeof e === 'number' ? e : e.length);
    }
    return out;
  }

  /** Ids of one text with special tokens, before truncation (what transformers.js encodes). */
  ids(text: string): number[] {
    if (this.tokenizeOnce) {
      const ids = this.fast(text);
      if (ids) return ids;
    }
    this.counters.textsTokenizedWhole += 1;
    return this.whole(text).input_ids;
  }

  /** One padded, truncated batch: the same tensors transformers.js' tokenizer(texts, {padding, truncation}) gives. */
  pack(texts: readonly string[]): PackedBatch {
    const rows = texts.map((t) => {
      const ids = this.ids(t);
      return ids.length > this.maxLen ? ids.slice(0, this.maxLen) : ids;
    });
    let width = 0;
    for (const r of rows) width = Math.max(width, r.length);
    const n = rows.length;
    const inputIds = new BigInt64Array(n * width);
    const attentionMask = new BigInt64Array(n * width);
    const pad = BigInt(this.padId);
    let real = 0;
    for (let i = 0; i < n; i++) {
      const r = rows[i]!;
      const off = i * width + (this.padLeft ? width - r.length : 0);
      const padFrom = this.padLeft ? i * width : i * width + r.length;
      inputIds.fill(pad, padFrom, padFrom + width - r.length);
      for (let j = 0; j < r.length; j++) {
        inputIds[off + j] = BigInt(r[j]!);
        attentionMask[off + j] = 1n;
      }
      real += r.length;
    }
    const tokenTypeIds = this.hasTypeIds ? new BigInt64Array(n * width) : null;
    return { inputIds, attentionMask, tokenTypeIds, rows: n, width, real };
  }

  /** Concatenated cached word ids, or null when the text must be tokenized whole. */
  private fast(text: string): number[] | null {
    if (text.length === 0) return null;
    const words = text.split(' ');
    this.fill(words);
    const out = [...this.prefix];
    for (const w of words) {
      const e = this.cache.get(w);
      if (e === undefined || typeof e === 'number') return null;
      for (const id of e) out.push(id);
    }
    for (const id of this.suffix) out.push(id);
    return out;
  }

  private fill(words: readonly string[]): void {
    const missing: string[] = [];
    const seen = new Set<string>();
    for (const w of words) {
      if (this.cache.has(w) || seen.has(w)) continue;
      seen.add(w);
      missing.push(w);
    }
    if (missing.length === 0) return;
    if (this.cache.size + missing.length > this.cacheMax) this.cache.clear();
    const enc = this.bare(missing);
    this.counters.wordsTokenized += missing.length;
    const safe = missing.map((w) => w.length > 0 && !/\s/.test(w.normalize('NFKC')));
    // A word whose ids change after a preceding text cannot be concatenated: SentencePiece Unigram
    // breaks ties between equal-score splits ("1"+"11" vs "11"+"1") by floating-point sums that
    // depend on the score of everything before the word. So (not for WordPiece) a word with such a
    // tie in its split, or whose ids differ when the new words are tokenized again run together
    // (each after a different prefix), sends its texts the whole-text way, as before.
    if (this.checkInContext) {
      for (let i = 0; i < missing.length; i++) if (safe[i] && this.tieProne(enc[i]!)) safe[i] = false;
      const idx = missing.map((_, i) => i).filter((i) => safe[i]);
      this.checkRunTogether(missing, enc, idx, safe);
    }
    for (let i = 0; i < missing.length; i++) {
      const ids = enc[i]!;
      this.cache.set(missing[i]!, safe[i] ? ids : ids.length);
    }
  }

  /**
   * True when a run of up to three neighbouring pieces can be reordered into the same string
   * ("9"+"99" = "99"+"9"): an exact tie whose winner depends on the text before the word.
   */
  private tieProne(ids: readonly number[]): boolean {
    const p = this.pieces!;
    for (let i = 0; i + 1 < ids.length; i++) {
      const a = p[ids[i]!] ?? '';
      const b = p[ids[i + 1]!] ?? '';
      if (ids[i] !== ids[i + 1] && a + b === b + a) return true;
      if (i + 2 < ids.length) {
        const c = p[ids[i + 2]!] ?? '';
        const s = a + b + c;
        for (const [x, y, z] of [
          [a, c, b],
          [b, a, c],
          [b, c, a],
          [c, a, b],
          [c, b, a],
        ] as const)
          if (x + y + z === s && !(x === a && y === b && z === c)) return true;
      }
    }
    return false;
  }

  /** Marks unsafe every word of order whose ids differ inside a run-together text (see fill). */
  private checkRunTogether(words: string[], enc: number[][], order: number[], safe: boolean[]): void {
    const GROUP = 256;
    let queue = order;
    while (queue.length > 0) {
      const group = queue.slice(0, GROUP);
      queue = queue.slice(GROUP);
      const got = this.bare([group.map((i) => words[i]!).join(' ')])[0]!;
      let pos = 0;
      for (let k = 0; k < group.length; k++) {
        const ids = enc[group[k]!]!;
        let same = pos + ids.length <= got.length;
        for (let j = 0; same && j < ids.length; j++) same = got[pos + j] === ids[j];
        if (same) {
          pos += ids.length;
          continue;
        }
        // Misaligned from here: drop this word, check the rest of the group again.
        safe[group[k]!] = false;
        queue = [...group.slice(k + 1), ...queue];
        break;
      }
    }
  }

  private bare(words: string[]): number[][] {
    const enc = this.tok(words, { add_special_tokens: false, return_tensor: false }) as {
      input_ids: number[][];
    };
    return enc.input_ids;
  }

  private whole(text: string): Encoded {
    return this.tok(text, { return_tensor: false }) as Encoded;
  }
}

/** Spaces as the processor hands texts to the embedder (one space between words, no ends). */
function normalizeSpaces(t: string): string {
  return t.replace(/\s+/g, ' ').trim();
}

function indexOfSeq(hay: readonly number[], needle: readonly number[]): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function sameIds(a: readonly number[] | null, b: readonly number[]): boolean {
  return a !== null && a.length === b.length && a.every((x, i) => x === b[i]);
}
