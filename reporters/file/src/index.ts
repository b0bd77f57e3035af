import { mkdir, rename, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { Type, definePlugin, reportFileName, withChartImages } from '@helios/plugins';

/** Writes each report as Markdown and JSON into a folder: for laptops and the embedded default. */
export default definePlugin({
  kind: 'reporter',
  name: '@helios/reporter-file',
  version: '0.1.0',
  apiVersion: '^1.0.0',
  description: 'Delivers reports as <dir>/<time>_<service>_<id>.md and .json, each chart beside them as .<feature>.svg.',
  configSchema: Type.Object(
    {
      dir: Type.Optional(Type.String({ minLength: 1, description: 'Folder for reports; default <dataDir>/reports.' })),
      json: Type.Boolean({ default: true, description: 'Also write the structured report as JSON.' }),
    },
    { additionalProperties: false },
  ),
  setup(ctx) {
    const dir = resolve(ctx.options.dir ?? join(ctx.dataDir, 'reports'));
    // Write to a temporary name and rename, so a reader never sees half a report.
    async function writeAtomically(path: string, content: string): Promise<void> {
      await writeFile(`${path}.tmp`, content);
      await rename(`${path}.tmp`, path);
    }
    return {
      async deliver(report) {
        await mkdir(dir, { recursive: true });
        const base = join(dir, reportFileName(report));
        // Charts first, so the Markdown never links a file that is not there yet.
        const images: Array<{ title: string; file: string }> = [];
        for (const chart of report.charts ?? []) {
          const file = `${base}.${chart.feature.replace(/[^a-zA-Z0-9_-]+/g, '_')}.svg`;
          await writeAtomically(file, `${chart.svg}\n`);
          images.push({ title: chart.title, file: basename(file) });
        }
        await writeAtomically(`${base}.md`, withChartImages(report.markdown, images));
        if (ctx.options.json) await writeAtomically(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
        return { location: `${base}.md` };
      },
    };
  },
});
