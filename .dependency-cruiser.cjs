/**
 * The layering of src/ (shared/DESIGN.md): data flows one way, bytes -> protocol -> broker ->
 * (store, transport) -> config -> features (hub, bridge, devices) -> app -> cli; a layer imports only from below. `npm test` runs this.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles, type-only imports included: a cycle means two files are one.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'protocol-is-the-bottom',
      comment: 'src/protocol knows MQTT and nothing of ours above it.',
      severity: 'error',
      from: { path: '^src/protocol/' },
      to: { path: '^src/(broker|transport|store|cli|config|app|hub|web|devices|bridge)/' },
    },
    {
      name: 'broker-below-its-users',
      comment:
        'The broker is handed its store, transports and bus through its ports; it imports none of them.',
      severity: 'error',
      from: { path: '^src/broker/' },
      to: { path: '^src/(transport|store|cli|config|app|hub|web|devices|bridge)/' },
    },
    {
      name: 'store-sees-only-ports',
      comment:
        "src/store implements the broker's Persistence port: it may import the port and the public types, no broker internals.",
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: '^src/broker/', pathNot: '^src/broker/(ports/|types\\.ts$)' },
    },
    {
      name: 'store-and-transport-below-the-top',
      severity: 'error',
      from: { path: '^src/(store|transport)/' },
      to: { path: '^src/(cli|config|app|hub|web|devices|bridge)/' },
    },
    {
      name: 'config-below-the-features',
      comment:
        'src/config reads mosquitto.conf syntax into typed settings; features register directives with it, it imports none of them.',
      severity: 'error',
      from: { path: '^src/config/' },
      to: { path: '^src/(transport|store|cli|app|hub|web|devices|bridge)/' },
    },
    {
      name: 'features-below-the-root',
      comment: 'A feature folder is wired by the composition root (src/app); it never imports the root.',
      severity: 'error',
      from: { path: '^src/(hub|web|devices|bridge)/' },
      to: { path: '^src/(app|cli)/' },
    },
    {
      name: 'only-cli-imports-app',
      comment: 'src/app is the one composition root; only the CLI (and embedders) call it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(app|cli)/' },
      to: { path: '^src/app/' },
    },
    {
      name: 'web-is-browser-code',
      comment:
        'src/web runs in the browser: it may share the hub API types and pure parsers, never Node-side layers.',
      severity: 'error',
      from: { path: '^src/web/' },
      to: { path: '^src/(broker|transport|store|config|app|cli|devices|bridge)/' },
    },
    {
      name: 'nothing-imports-web',
      comment: 'The dashboard is built into static files; the hub serves them, no server code imports them.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/web/' },
      to: { path: '^src/web/' },
    },
    {
      name: 'nothing-imports-cli',
      comment: 'src/cli only parses flags and calls what is below it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
