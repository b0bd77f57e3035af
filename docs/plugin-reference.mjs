#!/usr/bin/env node
// Generates the "Plugin API reference" section of docs/plugins.md from the TypeScript sources (the types a
// plugin is written against, with their doc comments), so the reference cannot drift from the code.
// `node docs/plugin-reference.mjs` rewrites the section; cli/src/e2e/plugin-docs.test.ts fails when it is
// out of step.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DOC = join(root, 'docs', 'plugins.md');
const MARK_START = '<!-- plugin-api-reference:start -->';
const MARK_END = '<!-- plugin-api-reference:end -->';

/** What the reference documents, in reading order: file, then the exported names from it. */
const SECTIONS = [
  { title: 'Declaring a plugin', file: 'plugins/src/define.ts', names: ['PLUGIN_API_VERSION', 'definePlugin', 'DetectorPlugin', 'ReporterPlugin', 'PluginContext'] },
  { title: 'Detector hooks and what they receive', file: 'plugins/src/define.ts', names: ['DetectorHooks', 'DetectorSeriesState', 'TrainingHistory', 'TrainingResult'] },
  { title: '', file: 'core/src/incident.ts', names: ['FeatureWindow', 'Features', 'FeatureName', 'MetricWindow', 'MetricFreshPoints', 'MetricSeries', 'MetricFeatures', 'METRIC_FEATURE_NAMES', 'SeriesWindow', 'seriesKey', 'metricSeriesName', 'Detection', 'FeatureExplanation'] },
  { title: 'Reporter hooks and what they receive', file: 'plugins/src/define.ts', names: ['ReporterHooks', 'ReportDraft', 'DeliveryReceipt', 'IncidentResolutionNotice', 'IncidentAcknowledgementNotice'] },
  { title: '', file: 'core/src/incident-lifecycle.ts', names: ['IncidentRecord', 'IncidentStatus', 'IncidentFeedback'] },
  { title: '', file: 'core/src/incident.ts', names: ['Incident', 'Anomaly', 'Severity', 'IncidentContext', 'WindowTotals', 'ErrorStats', 'EndpointStats', 'IncidentReport', 'ReportSections', 'ReportDelivery'] },
  { title: 'Reading the store (`ctx.store`)', file: 'store/src/store.ts', names: ['StoreReader'] },
  { title: '', file: 'store/src/incident-store.ts', names: ['IncidentReader', 'IncidentListOptions', 'SilenceListOptions'] },
  { title: 'Per-series state (`ctx.state`)', file: 'plugins/src/series-state.ts', names: ['PluginStateStore', 'SeriesState', 'SeriesStatePut'] },
  { title: 'Delivering over HTTP (reporters)', file: 'plugins/src/delivery-retry.ts', names: ['deliverWithRetry', 'AttemptOutcome', 'DeliveryRetryPolicy', 'postJson', 'requestJson', 'retryAfterMs', 'deliveryRetryOptions'] },
  { title: '', file: 'plugins/src/report-url.ts', names: ['reportUrl'] },
  { title: 'Testing kit (`@helios/plugins/testing`)', file: 'plugins/src/testing/conformance.ts', names: ['checkPluginConformance', 'ConformanceOptions', 'ConformanceResult'] },
  { title: '', file: 'plugins/src/testing/host.ts', names: ['createTestHost', 'TestHost', 'createSeededStore', 'createRecordingLogger', 'fixtureEvents'] },
  { title: '', file: 'plugins/src/testing/reporter-fixtures.ts', names: ['sampleReport', 'startRecordingServer', 'RecordedRequest', 'closeAfterEach'] },
  { title: '', file: 'plugins/src/testing/fixtures.ts', names: ['windowSeries', 'metricWindowSeries', 'anomalousWindow', 'sampleIncident', 'sampleContext', 'fixtureStore', 'testHost'] },
  { title: '', file: 'plugins/src/testing/config-table.ts', names: ['configTableMarkdown', 'markedSection'] },
  { title: '', file: 'plugins/src/testing/setup-reporter.ts', names: ['setupReporter'] },
];

/** Built-in plugins (every package under detectors/ and reporters/), whose options tables come from their config schemas. */
function builtInFolders() {
  return ['detectors', 'reporters'].flatMap((kind) =>
    readdirSync(join(root, kind), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(root, kind, d.name, 'package.json')))
      .map((d) => `${kind}/${d.name}`)
      .sort());
}

const esc = (s) => s.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ').trim();
// Prose: `<name>` outside a code span would be read as an HTML tag and vanish.
const prose = (s) => esc(s).split('`').map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, '&lt;').replace(/>/g, '&gt;'))).join('`');
const code = (s) => `\`${esc(s)}\``;

/** The JSDoc written right above a declaration, on one line. */
function docOf(node) {
  const docs = (node.jsDoc ?? []).filter((d) => ts.isJSDoc(d));
  // From the raw text: `@helios/...` inside a comment would otherwise be parsed as a JSDoc tag and cut off.
  return prose(docs.map((d) => d.getText().replace(/^\/\*\*/, '').replace(/\*\/$/, '').replace(/^\s*\* ?/gm, '')).join(' '));
}

function memberRow(member, sourceFile) {
  const name = member.name?.getText(sourceFile) ?? '';
  const optional = member.questionToken !== undefined ? '?' : '';
  let type;
  if (ts.isMethodSignature(member)) {
    const params = member.parameters.map((p) => p.getText(sourceFile)).join(', ');
    type = `(${params}) => ${member.type?.getText(sourceFile) ?? 'void'}`;
  } else {
    type = member.type?.getText(sourceFile) ?? 'unknown';
  }
  const readonly = member.modifiers?.some((m) => m.kind === ts.SyntaxKind.ReadonlyKeyword) ? 'readonly ' : '';
  return `| ${code(`${readonly}${name}${optional}`)} | ${code(type)} | ${docOf(member)} |`;
}

function describeDeclaration(node, sourceFile, byName) {
  const out = [];
  if (ts.isInterfaceDeclaration(node)) {
    const generics = node.typeParameters ? `<${node.typeParameters.map((t) => t.getText(sourceFile)).join(', ')}>` : '';
    const heritage = node.heritageClauses?.map((h) => h.getText(sourceFile)).join(' ') ?? '';
    out.push(`#### \`interface ${node.name.text}${generics}\`${heritage ? ` (${heritage.replace(/\s+/g, ' ')})` : ''}`, '');
    const doc = docOf(node);
    if (doc) out.push(doc, '');
    // An interface's inherited members are listed too, so each table is complete on its own.
    // with the base's type parameters replaced by the arguments given (`Hooks` -> `DetectorHooks`).
    const rows = [];
    for (const clause of node.heritageClauses ?? []) {
      for (const t of clause.types) {
        const base = sourceFile.statements.find((s) => ts.isInterfaceDeclaration(s) && s.name.text === t.expression.getText(sourceFile));
        if (base === undefined) continue;
        const args = (t.typeArguments ?? []).map((a) => a.getText(sourceFile));
        const substitute = (row) => (base.typeParameters ?? []).reduce((r, p, i) => (args[i] === undefined ? r : r.replace(new RegExp(`\\b${p.name.text}\\b`, 'g'), args[i])), row);
        for (const m of base.members) if (!node.members.some((own) => own.name?.getText(sourceFile) === m.name?.getText(sourceFile))) rows.push(substitute(memberRow(m, sourceFile)));
      }
    }
    rows.push(...node.members.map((m) => memberRow(m, sourceFile)));
    out.push('| member | type | description |', '|---|---|---|', ...rows, '');
  } else if (ts.isTypeAliasDeclaration(node)) {
    out.push(`#### \`type ${node.name.text}\``, '');
    const doc = docOf(node);
    if (doc) out.push(doc, '');
    out.push('```ts', `type ${node.name.text} = ${node.type.getText(sourceFile).replace(/\s+/g, ' ')};`);
    // `typeof SOME_CONST[number]`: show the constant too, it is the list of values.
    const constant = /typeof (\w+)/.exec(node.type.getText(sourceFile))?.[1];
    const declaration = constant === undefined ? undefined : byName.get(constant);
    if (declaration !== undefined && ts.isVariableStatement(declaration)) out.push(`const ${constant} = ${declaration.declarationList.declarations[0].initializer.getText(sourceFile).replace(/\s+/g, ' ')};`);
    out.push('```', '');
  } else if (ts.isFunctionDeclaration(node)) {
    out.push(`#### \`${node.name.text}()\``, '');
    const doc = docOf(node);
    if (doc) out.push(doc, '');
    const generics = node.typeParameters ? `<${node.typeParameters.map((t) => t.getText(sourceFile)).join(', ')}>` : '';
    const params = node.parameters.map((p) => p.getText(sourceFile).replace(/\s+/g, ' ')).join(', ');
    out.push('```ts', `function ${node.name.text}${generics}(${params}): ${node.type?.getText(sourceFile) ?? 'void'};`, '```', '');
  } else if (ts.isVariableStatement(node)) {
    const d = node.declarationList.declarations[0];
    out.push(`#### \`${d.name.getText(sourceFile)}\``, '');
    const doc = docOf(node);
    if (doc) out.push(doc, '');
    out.push('```ts', `const ${d.name.getText(sourceFile)} = ${d.initializer?.getText(sourceFile)};`, '```', '');
  }
  return out;
}

function declarationsIn(file) {
  const text = readFileSync(join(root, file), 'utf8');
  const sourceFile = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const byName = new Map();
  for (const s of sourceFile.statements) {
    if (ts.isVariableStatement(s)) byName.set(s.declarationList.declarations[0].name.getText(sourceFile), s);
    else if (s.name !== undefined && (ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s))) byName.set(s.name.text, s);
    // Overloads: the first signature carries the doc comment; show the implementation's only when alone.
    else if (ts.isFunctionDeclaration(s) && s.name !== undefined && !byName.has(s.name.text)) byName.set(s.name.text, s);
  }
  return { sourceFile, byName };
}

/**
 * The built-in plugins, linked to their READMEs (which hold their options tables). Their options are not
 * copied here: they change with each plugin, and each README is kept in step by its own package.
 */
function builtInPlugins() {
  const rows = builtInFolders().map((folder) => {
    const pkg = JSON.parse(readFileSync(join(root, folder, 'package.json'), 'utf8'));
    return `| [\`${pkg.name}\`](../${folder}) | ${folder.startsWith('detectors/') ? 'detector' : 'reporter'} |`;
  });
  return ['| package | kind |', '|---|---|', ...rows, ''];
}

/** The generated section, without the markers. */
export async function pluginApiReference() {
  const out = [];
  for (const section of SECTIONS) {
    const { sourceFile, byName } = declarationsIn(section.file);
    if (section.title) out.push(`### ${section.title}`, '');
    out.push(`<sub>From [\`${section.file}\`](${relative(join(root, 'docs'), join(root, section.file))}).</sub>`, '');
    for (const name of section.names) {
      const node = byName.get(name);
      if (node === undefined) throw new Error(`${section.file}: no exported declaration named ${name}; update SECTIONS in docs/plugin-reference.mjs`);
      out.push(...describeDeclaration(node, sourceFile, byName));
    }
  }
  out.push('### Built-in plugins', '', '<sub>Every package under `detectors/` and `reporters/`; options are in each README.</sub>', '', ...builtInPlugins());
  return out.join('\n').trim();
}

/** The section as it is in docs/plugins.md now. */
export function documentedReference(doc = readFileSync(DOC, 'utf8')) {
  const start = doc.indexOf(MARK_START);
  const end = doc.indexOf(MARK_END);
  if (start < 0 || end < start) throw new Error(`${DOC}: markers ${MARK_START} / ${MARK_END} not found`);
  return doc.slice(start + MARK_START.length, end).trim();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const doc = readFileSync(DOC, 'utf8');
  documentedReference(doc); // checks the markers
  const next = `${doc.slice(0, doc.indexOf(MARK_START) + MARK_START.length)}\n${await pluginApiReference()}\n${doc.slice(doc.indexOf(MARK_END))}`;
  writeFileSync(DOC, next);
  process.stdout.write(next === doc ? 'docs/plugins.md: reference already up to date\n' : 'docs/plugins.md: reference regenerated\n');
}
