/**
 * The URL of a worker thread's module next to the calling module (`metaUrl`: its import.meta.url): the
 * compiled JavaScript in dist/ also when the caller runs from TypeScript sources (tests), since a worker
 * thread loads plain JavaScript.
 */
export function workerModuleUrl(metaUrl: string, file: string): URL {
  const here = new URL('.', metaUrl);
  return here.pathname.includes('/src/') ? new URL(here.href.replace('/src/', '/dist/') + file) : new URL(file, here);
}
