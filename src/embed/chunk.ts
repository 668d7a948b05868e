import type { TextChunk } from '../ports/embedder.js';

/**
 * Splits a text into chunks of at most maxTokens model tokens on word boundaries, consecutive chunks
 * sharing about overlapTokens tokens. countTokens gives the token count of each word (as the model's
 * tokenizer sees it). Pure. A single word longer than maxTokens becomes its own chunk (the model
 * truncates it); a text that fits is one chunk, unchanged.
 */
export function chunkText(
  text: string,
  wordTokens: readonly number[],
  words: readonly string[],
  maxTokens: number,
  overlapTokens: number,
): TextChunk[] {
  const total = wordTokens.reduce((a, b) => a + b, 0);
  if (total <= maxTokens || words.length <= 1) return [{ text, tokens: total }];
  const chunks: TextChunk[] = [];
  let start = 0;
  while (start < words.length) {
    let end = start;
    let tokens = 0;
    while (end < words.length && (end === start || tokens + wordTokens[end]! <= maxTokens)) {
      tokens += wordTokens[end]!;
      end += 1;
    }
    chunks.push({ text: words.slice(start, end).join(' '), tokens });
    if (end >= words.length) break;
    // Step back over whole words worth at most overlapTokens, always making progress.
    let back = end;
    let overlap = 0;
    while (back - 1 > start && overlap + wordTokens[back - 1]! <= overlapTokens) {
      back -= 1;
      overlap += wordTokens[back]!;
    }
    start = back;
  }
  return chunks;
}

/** Whitespace word split used for chunk boundaries. */
export function splitWords(text: string): string[] {
  return text.split(/\s+/).filter((w) => w.length > 0);
}
