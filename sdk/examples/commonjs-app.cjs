// A CommonJS app using @helios/sdk (an ES module) through require(): Node >= 20.19 loads ES modules
// without top-level await from require(), so the SDK ships one ESM build and no CJS copy.
//
//   node sdk/examples/commonjs-app.cjs
const { init } = require('@helios/sdk');
const { withHelios } = require('@helios/sdk/middleware/http');

const helios = init({ service: 'cjs-app', otel: false, onDiagnostic: () => {} });
console.log(JSON.stringify({ init: typeof init, withHelios: typeof withHelios, enabled: helios.enabled }));
void helios.shutdown();
