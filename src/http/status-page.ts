/**
 * The daemon's status page (GET /): one HTML shell, one script and one stylesheet, served from the
 * package (no build step, no CDN); charts by uPlot from node_modules (docs/decisions/opsweb-status-page.md).
 * The script uses textContent for every value it did not write itself: record text is untrusted.
 * Written without backticks or template placeholders so it can live in String.raw literals.
 */

export const PAGE_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>seamline status</title>
<link rel="stylesheet" href="/assets/uplot.css">
<link rel="stylesheet" href="/assets/app.css">
</head>
<body>
<header>
  <h1>seamline</h1>
  <span id="state" class="badge">…</span>
  <span id="table-name" class="muted"></span>
  <nav>
    <a href="#overview" data-view="overview">Overview</a>
    <a href="#activity" data-view="activity">Activity</a>
    <a href="#quarantine" data-view="quarantine">Quarantine</a>
    <a href="#search" data-view="search">Search</a>
  </nav>
  <span id="updated" class="muted"></span>
</header>
<div id="error" class="error" hidden></div>
<main>
<section id="view-overview" class="view">
  <div class="cards" id="cards"></div>
  <div class="cards small" id="lanes" hidden></div>
  <div class="charts">
    <figure><figcaption>Throughput: records published per second (per minute, last hour)</figcaption><div id="chart-throughput" class="chart"></div></figure>
    <figure><figcaption>Freshness: landing → searchable, seconds (per minute, last hour)</figcaption><div id="chart-freshness" class="chart"></div></figure>
    <figure><figcaption>Backlog: bronze records not yet published (last hour)</figcaption><div id="chart-backlog" class="chart"></div></figure>
  </div>
  <h2>Open incidents</h2>
  <table id="incidents"><thead><tr><th>When</th><th>Failure mode</th><th>Batch</th><th>Rows</th><th>Guard</th></tr></thead><tbody></tbody></table>
  <p id="incidents-none" class="muted">No open incidents.</p>
</section>
<section id="view-activity" class="view" hidden>
  <h2>Recent batches</h2>
  <table id="batches"><thead><tr><th>Batch</th><th>State</th><th>Lane</th><th>Seq</th><th class="num">Records</th><th class="num">Ins / Upd / Del</th><th class="num">Embedded</th><th>Planned</th><th class="num">Duration</th><th>Error</th></tr></thead><tbody></tbody></table>
  <h2>Recent files</h2>
  <table id="files"><thead><tr><th>File</th><th>State</th><th class="num">Read</th><th class="num">Landed</th><th class="num">Quarantined</th><th class="num">Published</th><th>Landed at</th><th class="num">To searchable</th></tr></thead><tbody></tbody></table>
</section>
<section id="view-quarantine" class="view" hidden>
  <h2>Quarantine by code</h2>
  <div id="q-codes" class="chips"></div>
  <form id="q-form" class="filters">
    <label>File <input id="q-file" name="file" placeholder="part of the path"></label>
    <label>Code <input id="q-code" name="code" placeholder="e.g. MALFORMED_JSON"></label>
    <label>Since <input id="q-since" name="since" placeholder="1h, 7d or ISO time"></label>
    <label>Limit <input id="q-limit" name="limit" type="number" min="1" max="1000" value="50"></label>
    <button type="submit">Filter</button>
    <button type="button" id="q-clear">Clear</button>
  </form>
  <p id="q-summary" class="muted"></p>
  <table id="q-list"><thead><tr><th>File:line</th><th>Code</th><th>Reason</th><th>Raw bytes (escaped excerpt)</th><th>When</th></tr></thead><tbody></tbody></table>
  <div id="q-record" class="panel" hidden>
    <div class="panel-head"><h3 id="q-record-title"></h3><button type="button" id="q-record-close">Close</button></div>
    <dl id="q-record-meta"></dl>
    <pre id="q-record-raw"></pre>
  </div>
</section>
<section id="view-search" class="view" hidden>
  <form id="s-form" class="filters">
    <label class="grow">Query <input id="s-query" name="query" placeholder="what to look for" required></label>
    <label>Mode <select id="s-mode" name="mode"><option>vector</option><option>fts</option><option>hybrid</option></select></label>
    <label>k <input id="s-k" name="k" type="number" min="1" max="100" value="10"></label>
    <label class="grow">Filters <input id="s-filters" name="filters" placeholder="FIELD OP VALUE; … e.g. metadata.lang = en"></label>
    <button type="submit" id="s-go">Search</button>
  </form>
  <p id="s-summary" class="muted"></p>
  <ol id="s-results" class="results"></ol>
</section>
</main>
<script src="/assets/uplot.js"></script>
<script src="/assets/app.js"></script>
</body>
</html>
`;

export const PAGE_CSS = String.raw`
:root { --fg: #1d2330; --muted: #667085; --line: #e4e7ec; --bg: #f7f8fa; --card: #fff; --accent: #2f6fde;
  --ok: #1a7f37; --warn: #b54708; --bad: #c4320a; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); font-size: 14px; }
header { display: flex; align-items: center; gap: 16px; padding: 10px 20px; background: var(--card); border-bottom: 1px solid var(--line); flex-wrap: wrap; }
header h1 { font-size: 18px; margin: 0; letter-spacing: .02em; }
nav { display: flex; gap: 4px; margin-left: 12px; }
nav a { padding: 6px 12px; border-radius: 6px; color: var(--fg); text-decoration: none; }
nav a.active { background: #e8effc; color: var(--accent); font-weight: 600; }
#updated { margin-left: auto; }
main { padding: 16px 20px 40px; max-width: 1400px; }
h2 { font-size: 15px; margin: 22px 0 8px; }
.muted { color: var(--muted); }
.badge { padding: 2px 10px; border-radius: 10px; background: #eef; font-weight: 600; font-size: 12px; }
.badge.running { background: #dcfce7; color: var(--ok); }
.badge.starting, .badge.draining { background: #fef3c7; color: var(--warn); }
.badge.stopped, .badge.down { background: #fee4e2; color: var(--bad); }
.error { margin: 10px 20px 0; padding: 8px 12px; border: 1px solid #fda29b; background: #fef3f2; color: var(--bad); border-radius: 6px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; }
.cards.small { margin-top: 10px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.card .label { color: var(--muted); font-size: 12px; }
.card .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; margin-top: 2px; }
.card .sub { color: var(--muted); font-size: 12px; margin-top: 2px; }
.card.warn .value { color: var(--warn); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 12px; margin-top: 14px; }
figure { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px; min-width: 0; }
figcaption { font-size: 12px; color: var(--muted); margin-bottom: 6px; }
.chart { min-height: 200px; }
.chart .u-legend { font-size: 12px; }
table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; background: #fafbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.mono, pre, .excerpt { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
td.path { max-width: 420px; overflow-wrap: anywhere; }
.excerpt { max-width: 460px; overflow-wrap: anywhere; color: #344054; }
#q-list td:first-child, #q-list td:last-child, #files td:nth-child(7), #batches td:nth-child(8) { white-space: nowrap; }
tr.clickable { cursor: pointer; }
tr.clickable:hover { background: #f2f6fd; }
.state-committed, .state-verified { color: var(--ok); }
.state-failed, .state-incomplete { color: var(--bad); }
.state-planned, .state-unverified, .state-landing { color: var(--warn); }
.chips { display: flex; flex-wrap: wrap; gap: 8px; }
.chip { border: 1px solid var(--line); background: var(--card); border-radius: 14px; padding: 4px 12px; cursor: pointer; font: inherit; }
.chip b { margin-left: 6px; }
.chip.active { border-color: var(--accent); color: var(--accent); }
.filters { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 10px; margin: 14px 0 8px; }
.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 3px; }
.filters label.grow { flex: 1 1 240px; }
input, select, button { font: inherit; padding: 6px 8px; border: 1px solid #d0d5dd; border-radius: 6px; background: #fff; color: var(--fg); }
button { cursor: pointer; }
button[type=submit] { background: var(--accent); border-color: var(--accent); color: #fff; }
.panel { margin-top: 14px; background: var(--card); border: 1px solid var(--accent); border-radius: 8px; padding: 12px 14px; }
.panel-head { display: flex; justify-content: space-between; align-items: center; }
.panel h3 { margin: 0; font-size: 14px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 10px 0; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
pre { background: #f2f4f7; padding: 10px; border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 360px; overflow: auto; margin: 0; }
.results { padding-left: 22px; }
.results li { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; margin-bottom: 8px; }
.hit-head { display: flex; gap: 12px; align-items: baseline; }
.hit-id { font-weight: 600; }
.hit-score { color: var(--muted); font-variant-numeric: tabular-nums; }
.passage { margin: 6px 0 0; color: #344054; }
.prov { color: var(--muted); font-size: 12px; margin-top: 4px; }
`;

export const PAGE_JS = String.raw`(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var views = ['overview', 'activity', 'quarantine', 'search'];
  var charts = {};
  var current = 'overview';
  var timer = null;

  function el(tag, opts, children) {
    var e = document.createElement(tag);
    if (opts) {
      if (opts.text !== undefined && opts.text !== null) e.textContent = String(opts.text);
      if (opts.cls) e.className = opts.cls;
      if (opts.title) e.title = opts.title;
      if (opts.data) Object.keys(opts.data).forEach(function (k) { e.dataset[k] = opts.data[k]; });
    }
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function fmtInt(n) { return n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'); }
  function fmtTime(ms) {
    if (ms === null || ms === undefined) return '–';
    var d = new Date(ms);
    return d.toISOString().replace('T', ' ').slice(0, 19) + 'Z';
  }
  function fmtDur(ms) {
    if (ms === null || ms === undefined) return '–';
    if (ms < 1000) return ms + ' ms';
    if (ms < 120000) return (ms / 1000).toFixed(1) + ' s';
    return (ms / 60000).toFixed(1) + ' min';
  }
  function showError(msg) {
    var e = $('error');
    if (msg) { e.textContent = msg; e.hidden = false; } else { e.hidden = true; }
  }
  function getJson(url, init) {
    return fetch(url, init).then(function (r) {
      return r.text().then(function (t) {
        var body = null;
        try { body = t ? JSON.parse(t) : null; } catch (e) { body = null; }
        if (!r.ok) {
          var m = body && body.error ? body.error.code + ': ' + body.error.message : 'HTTP ' + r.status;
          throw new Error(url.split('?')[0] + ' — ' + m);
        }
        return body;
      });
    });
  }
  function fillRows(tbody, rows) {
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    rows.forEach(function (r) { tbody.appendChild(r); });
  }
  function td(text, cls, title) { return el('td', { text: text, cls: cls, title: title }); }

  // ---------- overview ----------
  function card(label, value, sub, id, warn) {
    var v = el('div', { cls: 'value', text: value });
    if (id) v.id = id;
    return el('div', { cls: 'card' + (warn ? ' warn' : '') }, [
      el('div', { cls: 'label', text: label }), v, sub ? el('div', { cls: 'sub', text: sub }) : null,
    ]);
  }
  function renderStatus(s) {
    var st = (s.daemon && s.daemon.state) || 'unknown';
    var b = $('state'); b.textContent = st; b.className = 'badge ' + st;
    var t = s.table;
    $('table-name').textContent = t ? t.name + ' · ' + t.modelId + ' (' + t.dim + '-d)' : 'no table yet';
    var r = s.records || {}, f = s.files || {}, c = (t && t.counters) || {};
    var backlog = t ? t.backlogRecords : r.bronze;
    var cards = [
      card('Records read', fmtInt(r.read), 'from landed files', 'count-read'),
      card('Landed', fmtInt(r.landed), 'in bronze: ' + fmtInt(r.bronze), 'count-landed'),
      card('Quarantined', fmtInt(r.quarantined), 'withheld: ' + fmtInt(r.withheld || 0), 'count-quarantined', r.quarantined > 0),
      card('Published', fmtInt(c.recordsPublished || 0), 'batches: ' + fmtInt(c.batchesCommitted || 0), 'count-published'),
      card('Table rows', fmtInt(t ? t.rows : 0), t ? 'version ' + t.version : '', 'count-rows'),
      card('Backlog', fmtInt(backlog), 'records to publish', 'count-backlog', backlog > 0),
      card('Files landed', fmtInt((f.verified || 0) + (f.unverified || 0)), fmtInt(f.verified || 0) + ' verified · ' + fmtInt(f.unverified || 0) + ' no manifest', 'count-files'),
      card('Waiting / incomplete', fmtInt(f.waiting || 0) + ' / ' + fmtInt(f.incomplete || 0), 'files', 'count-waiting', (f.incomplete || 0) > 0),
    ];
    fillRows($('cards'), cards);
    // The processor's two lanes (status.table.lanes): backlog records and files per lane, and the live
    // lane's freshness objective (degraded reason when violated).
    var lanes = (t && t.lanes) || null;
    var laneBox = $('lanes');
    if (lanes && typeof lanes === 'object') {
      var lc = ['live', 'backlog'].filter(function (k) { return lanes[k]; }).map(function (k) {
        var v = lanes[k];
        return card('Backlog · ' + k + ' lane', fmtInt(v.records), fmtInt(v.files) + ' files', 'lane-' + k);
      });
      var f = lanes.freshness;
      if (f && typeof f === 'object') {
        var val = f.valueMs === null || f.valueMs === undefined ? '–' : (f.valueMs / 1000).toFixed(2) + ' s';
        lc.push(card('Live freshness p' + f.percentile, val, lanes.degraded ? 'degraded: ' + lanes.degraded : f.judged === false ? 'not judged yet: too few files in the window' : 'objective met', 'lane-freshness', !!lanes.degraded));
      }
      fillRows(laneBox, lc); laneBox.hidden = lc.length === 0;
    } else { laneBox.hidden = true; }
    var open = (s.incidents || []).filter(function (i) { return i.status === 'open'; });
    fillRows($('incidents').tBodies[0], open.map(function (i) {
      return el('tr', null, [td(fmtTime(i.atMs)), td(i.failureMode), td(i.batchId || '–', 'mono'), td(fmtInt(i.affectedRows), 'num'), td(i.guard)]);
    }));
    $('incidents').hidden = open.length === 0;
    $('incidents-none').hidden = open.length !== 0;
  }
  function chart(id, series, data) {
    var box = $(id);
    var w = Math.max(300, box.clientWidth || 400);
    if (typeof uPlot !== 'function') { box.textContent = 'chart library not loaded'; return; }
    if (charts[id]) { charts[id].setData(data); charts[id].setSize({ width: w, height: 200 }); return; }
    var opts = {
      width: w, height: 200, legend: { show: true },
      // Rates, latencies and backlogs start at zero; an empty chart still gets a sensible axis.
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.15 : 1]; } } },
      axes: [{ stroke: '#667085', grid: { stroke: '#eef0f3' } }, { stroke: '#667085', grid: { stroke: '#eef0f3' }, size: 56 }],
      series: [{}].concat(series),
    };
    charts[id] = new uPlot(opts, data, box);
  }
  function renderHistory(h) {
    var xs = h.minutes.map(function (m) { return m.t / 1000; });
    chart('chart-throughput', [{ label: 'records/s', stroke: '#2f6fde', fill: 'rgba(47,111,222,0.12)', width: 2 }],
      [xs, h.minutes.map(function (m) { return m.recordsPerSecond; })]);
    chart('chart-freshness', [
      { label: 'worst (s)', stroke: '#c4320a', width: 2, spanGaps: false, points: { show: true, size: 5 } },
      { label: 'mean (s)', stroke: '#1a7f37', width: 2, spanGaps: false, points: { show: true, size: 5 } },
    ], [xs, h.minutes.map(function (m) { return m.maxFreshSeconds; }), h.minutes.map(function (m) { return m.meanFreshSeconds; })]);
    var bx = h.backlog.map(function (b) { return b.t / 1000; });
    if (bx.length === 1) bx = [bx[0] - 60, bx[0]];
    var by = h.backlog.map(function (b) { return b.backlog; });
    if (by.length === 1) by = [by[0], by[0]];
    chart('chart-backlog', [{ label: 'records', stroke: '#b54708', fill: 'rgba(181,71,8,0.10)', width: 2 }], [bx, by]);
  }
  function loadOverview() {
    return Promise.all([getJson('/status'), getJson('/api/history')]).then(function (res) {
      renderStatus(res[0]); renderHistory(res[1]);
    });
  }

  // ---------- activity ----------
  function stateCell(s, extra) { return td(s + (extra || ''), 'state-' + s); }
  function loadActivity() {
    return Promise.all([getJson('/status'), getJson('/api/batches?limit=25'), getJson('/api/files?limit=25')]).then(function (res) {
      renderStatus(res[0]);
      fillRows($('batches').tBodies[0], res[1].batches.map(function (b) {
        return el('tr', null, [
          td(b.batchId, 'mono'), stateCell(b.state, b.attempts > 1 ? ' (' + b.attempts + ' attempts)' : ''), td(b.lane || '–'),
          td(b.seqFrom + '–' + b.seqTo, 'mono'), td(fmtInt(b.records), 'num'),
          td(fmtInt(b.rowsInserted) + ' / ' + fmtInt(b.rowsUpdated) + ' / ' + fmtInt(b.rowsDeleted), 'num'),
          td(fmtInt(b.textsEmbedded) + (b.textsReused ? ' (+' + fmtInt(b.textsReused) + ' reused)' : ''), 'num'),
          td(fmtTime(b.plannedAtMs)), td(fmtDur(b.durationMs), 'num'), td(b.error || '', 'excerpt'),
        ]);
      }));
      fillRows($('files').tBodies[0], res[2].files.map(function (f) {
        return el('tr', null, [
          td(f.path, 'path mono'), stateCell(f.state), td(fmtInt(f.read), 'num'), td(fmtInt(f.landed), 'num'),
          td(fmtInt(f.quarantined), 'num'), td(fmtInt(f.published), 'num'), td(fmtTime(f.landedAtMs)), td(fmtDur(f.landToSearchableMs), 'num'),
        ]);
      }));
    });
  }

  // ---------- quarantine ----------
  function qQuery() {
    var p = new URLSearchParams();
    ['file', 'code', 'since', 'limit'].forEach(function (k) { var v = $('q-' + k).value.trim(); if (v) p.set(k, v); });
    return p.toString();
  }
  function loadQuarantine() {
    var q = qQuery();
    return getJson('/api/quarantine' + (q ? '?' + q : '')).then(function (r) {
      var active = $('q-code').value.trim();
      fillRows($('q-codes'), r.byCode.length ? r.byCode.map(function (c) {
        var b = el('button', { cls: 'chip' + (c.code === active ? ' active' : ''), text: c.code, data: { code: c.code }, title: 'last seen ' + fmtTime(c.lastAtMs) }, [el('b', { text: fmtInt(c.count) })]);
        b.type = 'button';
        b.addEventListener('click', function () { $('q-code').value = c.code === active ? '' : c.code; loadQuarantine().catch(fail); });
        return b;
      }) : [el('span', { cls: 'muted', text: 'Nothing quarantined.' })]);
      $('q-summary').textContent = r.entries.length + ' of ' + r.total + ' matching record(s), newest first. Click a row to open it.';
      fillRows($('q-list').tBodies[0], r.entries.map(function (e) {
        var tr = el('tr', { cls: 'clickable', data: { qid: String(e.qId) } }, [
          td(e.file + ':' + e.line, 'path mono'), td(e.code, 'mono'), td(e.reason),
          td(e.excerpt + (e.truncated ? ' …' : ''), 'excerpt'), td(fmtTime(e.atMs)),
        ]);
        tr.addEventListener('click', function () { openRecord(e.qId).catch(fail); });
        return tr;
      }));
    });
  }
  function openRecord(id) {
    return getJson('/api/quarantine/' + encodeURIComponent(id)).then(function (e) {
      $('q-record-title').textContent = 'Quarantined record #' + e.qId;
      var meta = [['File', e.file], ['Line', e.line], ['Byte offset', e.byteOffset], ['Code', e.code], ['Field', e.field || '–'],
        ['Reason', e.reason], ['Quarantined at', fmtTime(e.atMs)], ['Raw length', fmtInt(e.rawChars) + ' characters' + (e.truncated ? ' (excerpt shown)' : '')]];
      var dl = $('q-record-meta');
      while (dl.firstChild) dl.removeChild(dl.firstChild);
      meta.forEach(function (m) { dl.appendChild(el('dt', { text: m[0] })); dl.appendChild(el('dd', { text: m[1] })); });
      $('q-record-raw').textContent = e.excerpt + (e.truncated ? '\n… (truncated)' : '');
      $('q-record').hidden = false;
      $('q-record').scrollIntoView({ block: 'nearest' });
    });
  }

  // ---------- search ----------
  var OPS = { '=': 'eq', '!=': 'ne', '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' };
  function parseFilters(text) {
    return text.split(';').map(function (s) { return s.trim(); }).filter(Boolean).map(function (s) {
      var m = /^([A-Za-z_][\w.]*)\s*(!=|<=|>=|=|<|>|\s(?:eq|ne|lt|lte|gt|gte|in)\s)\s*(.+)$/.exec(s);
      if (!m) throw new Error('filter "' + s + '": expected FIELD OP VALUE (ops = != < <= > >= in)');
      var op = m[2].trim();
      var v = m[3].trim();
      try { v = JSON.parse(v); } catch (e) { /* a bare word is a string */ }
      return { field: m[1], op: OPS[op] || op, value: v };
    });
  }
  function passagesOf(h) {
    // Documents with passages (hits[].passages) when the server returns them, else one chunk's text.
    if (Array.isArray(h.passages) && h.passages.length) return h.passages.map(function (p) { return typeof p === 'string' ? p : p.text; });
    return [h.text || ''];
  }
  function runSearch(ev) {
    if (ev) ev.preventDefault();
    var body;
    try {
      body = { query: $('s-query').value, mode: $('s-mode').value, k: Number($('s-k').value) || 10, filters: parseFilters($('s-filters').value) };
    } catch (e) { fail(e); return; }
    $('s-summary').textContent = 'Searching…';
    getJson('/search', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(function (r) {
      showError(null);
      var hits = Array.isArray(r.hits) ? r.hits : Array.isArray(r.documents) ? r.documents : Array.isArray(r.results) ? r.results : [];
      $('s-summary').textContent = hits.length + ' result(s) from ' + (r.table || '?') + ' · mode ' + (r.mode || body.mode);
      fillRows($('s-results'), hits.map(function (h) {
        var prov = h.provenance || {};
        var where = prov.file ? prov.file + ':' + prov.line : '';
        return el('li', { cls: 'hit', data: { id: String(h.id) } }, [
          el('div', { cls: 'hit-head' }, [el('span', { cls: 'hit-id', text: h.id }), el('span', { cls: 'hit-score', text: 'score ' + Number(h.score).toFixed(4) })]),
        ].concat(passagesOf(h).map(function (t) { return el('p', { cls: 'passage', text: t }); }))
          .concat([el('div', { cls: 'prov', text: [where, prov.eventTime, h.metadata ? JSON.stringify(h.metadata) : ''].filter(Boolean).join(' · ') })]));
      }));
    }).catch(function (e) { $('s-summary').textContent = ''; fail(e); });
  }

  // ---------- shell ----------
  function fail(e) { showError(e && e.message ? e.message : String(e)); }
  function refresh() {
    var p = current === 'overview' ? loadOverview() : current === 'activity' ? loadActivity() : current === 'quarantine' ? loadQuarantine() : null;
    if (!p) return;
    p.then(function () { showError(null); $('updated').textContent = 'updated ' + new Date().toLocaleTimeString(); }).catch(fail);
  }
  function show(view) {
    if (views.indexOf(view) < 0) view = 'overview';
    current = view;
    views.forEach(function (v) { $('view-' + v).hidden = v !== view; });
    document.querySelectorAll('nav a').forEach(function (a) { a.classList.toggle('active', a.dataset.view === view); });
    refresh();
  }
  window.addEventListener('hashchange', function () { show(location.hash.slice(1)); });
  window.addEventListener('resize', function () {
    Object.keys(charts).forEach(function (id) { charts[id].setSize({ width: Math.max(300, $(id).clientWidth), height: 200 }); });
  });
  $('q-form').addEventListener('submit', function (ev) { ev.preventDefault(); loadQuarantine().catch(fail); });
  $('q-clear').addEventListener('click', function () { ['file', 'code', 'since'].forEach(function (k) { $('q-' + k).value = ''; }); loadQuarantine().catch(fail); });
  $('q-record-close').addEventListener('click', function () { $('q-record').hidden = true; });
  $('s-form').addEventListener('submit', runSearch);
  show(location.hash.slice(1) || 'overview');
  timer = setInterval(function () { if (!document.hidden) refresh(); }, 5000);
  window.seamlinePage = { refresh: refresh, stop: function () { clearInterval(timer); } };
})();
`;
