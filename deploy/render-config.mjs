// Prints HELIOS_CONFIG_YAML with ${NAME} replaced by the environment variable NAME,
// ${urlencode:NAME} by its URL-encoded value (for passwords inside store.url) and ${NAME:-text} by
// NAME or, when NAME is unset, by text (for a secret only some roles are given, e.g. the gateway's API
// keys). Used by the image's entrypoint on platforms that inject secrets as environment variables (ECS,
// Kubernetes); an unset variable without a fallback is an error, so a task never starts on a config
// with a hole in it.
export function renderConfig(template, env) {
  const missing = [];
  const text = template.replace(/\$\{(urlencode:)?([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g, (_, encode, name, fallback) => {
    let value = env[name];
    if (value === undefined) {
      if (fallback === undefined) {
        missing.push(name);
        return '';
      }
      value = fallback;
    }
    return encode ? encodeURIComponent(value) : value;
  });
  if (missing.length > 0) throw new Error(`helios config: environment variables not set: ${[...new Set(missing)].join(', ')}`);
  return text;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const template = process.env.HELIOS_CONFIG_YAML;
  if (!template) {
    console.error('HELIOS_CONFIG_YAML is not set');
    process.exit(2);
  }
  try {
    process.stdout.write(renderConfig(template, process.env));
  } catch (err) {
    console.error(err.message);
    process.exit(2);
  }
}
