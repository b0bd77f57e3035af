import { readFileSync } from 'node:fs';
import { FEATURE_NAMES, HeliosError, type Features } from '@helios/core';
import type { IncidentLabel, LabelledDataset, LabelledWindow } from './synthetic.js';

/**
 * A labelled dataset from a file, either
 * - JSON: `{ windows: [{ tenant?, service, start, end, features: {...seven...}, label, incidentId? }], incidents?: [...] }`
 *   (what `helios eval --write-dataset` writes), or
 * - CSV with a header: `service,start,end,<the seven feature names>,label[,tenant][,incident]`; times are
 *   epoch ms or ISO 8601.
 * Without incident ids, each run of consecutive positive windows of a series is one incident.
 */
export function readLabelledDataset(path: string): LabelledDataset {
  const text = readFileSync(path, 'utf8');
  const windows = path.endsWith('.json') ? fromJson(path, text) : fromCsv(path, text);
  windows.sort((a, b) => a.end - b.end || a.service.localeCompare(b.service));
  const parsed = path.endsWith('.json') ? (JSON.parse(text) as { incidents?: IncidentLabel[] }) : {};
  const incidents = parsed.incidents ?? incidentsFromRuns(windows);
  const hop = inferHop(windows);
  return { name: path, windowMs: windows[0] === undefined ? 0 : windows[0].end - windows[0].start, hopMs: hop, windows, incidents };
}

function invalid(path: string, message: string): never {
  throw new HeliosError('HLS_ERR_CONFIG_INVALID', `${path}: ${message}`);
}

function time(path: string, raw: unknown, where: string): number {
  const n = typeof raw === 'number' ? raw : /^\d+$/.test(String(raw)) ? Number(raw) : Date.parse(String(raw));
  if (!Number.isFinite(n)) invalid(path, `${where}: not a time: ${JSON.stringify(raw)}`);
  return n;
}

function fromJson(path: string, text: string): LabelledWindow[] {
  let doc: { windows?: unknown };
  try {
    doc = JSON.parse(text) as { windows?: unknown };
  } catch (err) {
    invalid(path, (err as Error).message);
  }
  if (!Array.isArray(doc.windows)) invalid(path, 'expected an object with a "windows" array');
  return doc.windows.map((raw: Record<string, unknown>, i: number) => {
    const f = raw['features'] as Record<string, unknown> | undefined;
    const features = Object.fromEntries(FEATURE_NAMES.map((name) => {
      const v = f?.[name];
      if (typeof v !== 'number' || !Number.isFinite(v)) invalid(path, `windows[${i}].features.${name}: expected a number`);
      return [name, v];
    })) as Features;
    const label = raw['label'] === 1 || raw['label'] === true ? 1 : 0;
    const w: LabelledWindow = { tenant: String(raw['tenant'] ?? 'default'), service: String(raw['service'] ?? 'series'), start: time(path, raw['start'], `windows[${i}].start`), end: time(path, raw['end'], `windows[${i}].end`), features, label };
    if (typeof raw['incidentId'] === 'string') w.incidentId = raw['incidentId'];
    return w;
  });
}

function fromCsv(path: string, text: string): LabelledWindow[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines.shift() ?? '').split(',').map((h) => h.trim());
  const col = (name: string) => header.indexOf(name);
  for (const name of ['service', 'start', 'end', ...FEATURE_NAMES, 'label']) if (col(name) < 0) invalid(path, `CSV header lacks "${name}" (have: ${header.join(', ')})`);
  return lines.map((line, i) => {
    const cells = line.split(',');
    const features = Object.fromEntries(FEATURE_NAMES.map((name) => {
      const v = Number(cells[col(name)]);
      if (!Number.isFinite(v)) invalid(path, `line ${i + 2}: ${name} is not a number`);
      return [name, v];
    })) as Features;
    const w: LabelledWindow = {
      tenant: col('tenant') >= 0 ? cells[col('tenant')]! : 'default', service: cells[col('service')]!,
      start: time(path, cells[col('start')], `line ${i + 2}`), end: time(path, cells[col('end')], `line ${i + 2}`),
      features, label: Number(cells[col('label')]) === 1 ? 1 : 0,
    };
    if (col('incident') >= 0 && cells[col('incident')] !== '') w.incidentId = cells[col('incident')];
    return w;
  });
}

function inferHop(windows: LabelledWindow[]): number {
  const first = windows[0];
  const next = first === undefined ? undefined : windows.find((w) => w.service === first.service && w.tenant === first.tenant && w.end > first.end);
  return first === undefined || next === undefined ? 0 : next.end - first.end;
}

/** Consecutive positive windows of a series form one incident (used when the file names none). */
function incidentsFromRuns(windows: LabelledWindow[]): IncidentLabel[] {
  if (windows.some((w) => w.incidentId !== undefined)) {
    const byId = new Map<string, IncidentLabel>();
    for (const w of windows) {
      if (w.incidentId === undefined) continue;
      const known = byId.get(w.incidentId);
      if (known === undefined) byId.set(w.incidentId, { id: w.incidentId, tenant: w.tenant, service: w.service, kind: 'unlabelled', start: w.start, end: w.end });
      else known.end = Math.max(known.end, w.end);
    }
    return [...byId.values()];
  }
  const open = new Map<string, IncidentLabel>();
  const out: IncidentLabel[] = [];
  const hop = inferHop(windows);
  for (const w of windows) {
    const key = `${w.tenant}\u0000${w.service}`;
    const current = open.get(key);
    if (w.label === 1) {
      if (current === undefined) {
        const inc: IncidentLabel = { id: `${w.service}@${w.end}`, tenant: w.tenant, service: w.service, kind: 'unlabelled', start: w.end - (hop || w.end - w.start), end: w.end };
        open.set(key, inc);
        out.push(inc);
      }
      w.incidentId = open.get(key)!.id;
      open.get(key)!.end = w.end;
    } else open.delete(key);
  }
  return out;
}
