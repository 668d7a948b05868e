/**
 * A strict parser for the Prometheus text exposition format (0.0.4) used by the metrics tests:
 * every line is blank, a HELP/TYPE comment or `name{labels} value`; TYPE precedes samples; values are numbers.
 * `Nan` is accepted as prom-client writes it (Prometheus parses floats case-insensitively).
 * Returns sample → value, keyed by the sample text before the value.
 */
export function parsePrometheus(text: string): Map<string, number> {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const out = new Map<string, number>();
  const typed = new Map<string, string>();
  const sample =
    /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*"(?:,|(?=\})))*\})? (-?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|\+Inf|-Inf|NaN|Nan))$/;
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    const t = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (t) {
      if (typed.has(t[1]!)) throw new Error(`duplicate TYPE for ${t[1]}`);
      typed.set(t[1]!, t[2]!);
      continue;
    }
    const m = sample.exec(line);
    if (!m) throw new Error(`not a valid exposition line: ${JSON.stringify(line)}`);
    const base = m[1]!.replace(/_(bucket|sum|count)$/, '');
    if (!typed.has(m[1]!) && !(typed.get(base) === 'histogram'))
      throw new Error(`sample ${m[1]} without a TYPE line`);
    const key = `${m[1]}${m[2] ?? ''}`;
    if (out.has(key)) throw new Error(`duplicate sample ${key}`);
    out.set(key, Number(m[3]!.replace('+Inf', 'Infinity').replace('-Inf', '-Infinity')));
  }
  return out;
}
