import { z } from 'zod';
import { ConfigSchema } from './schema.js';

type JsonSchema = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
};

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (s.type === 'array' && s.items) return `array of ${typeOf(s.items)}`;
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object')
    return `map of ${typeOf(s.additionalProperties)}`;
  let t = Array.isArray(s.type) ? s.type.join(' \\| ') : (s.type ?? 'any');
  const max = s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;
  if (s.minimum !== undefined && max !== undefined) t += ` (${s.minimum}…${max})`;
  else if (s.minimum !== undefined) t += ` ≥ ${s.minimum}`;
  else if (max !== undefined) t += ` ≤ ${max}`;
  return t;
}

function envName(key: string): string {
  return `SEAMLINE_${key
    .split('.')
    .map((seg) => seg.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
    .join('__')}`;
}

/**
 * The config reference (docs/config.md), generated from the zod schema so the two cannot drift:
 * `npm run docs:config` rewrites it and a unit test fails when it is stale.
 */
export function renderConfigReference(): string {
  const root = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rows: string[] = [];
  const walk = (props: Record<string, JsonSchema>, prefix: string): void => {
    for (const [name, s] of Object.entries(props)) {
      const key = prefix ? `${prefix}.${name}` : name;
      if (s.type === 'object' && s.properties) {
        walk(s.properties, key);
        continue;
      }
      const def = s.default === undefined ? '—' : `\`${JSON.stringify(s.default)}\``;
      rows.push(
        `| \`${key}\` | ${typeOf(s)} | ${def} | \`${envName(key)}\` | ${(s.description ?? '').replace(/\|/g, '\\|')} |`,
      );
    }
  };
  walk(root.properties ?? {}, '');
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs:config`. Do not edit by hand. -->',
    '',
    'One JSON file (`--config FILE` or `SEAMLINE_CONFIG`), every key optional. Relative paths resolve against the',
    "config file's folder (or the working directory when there is no file). Any key can be overridden by an",
    'environment variable: `SEAMLINE_` + the key path in UPPER_SNAKE_CASE, nesting joined by `__`; values are parsed',
    'as JSON when they parse, else taken as strings. Unknown keys and unknown `SEAMLINE_*` variables are errors that',
    'name the key. The loaded configuration is frozen.',
    '',
    '| key | type | default | env | meaning |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
