// The history worker from the TypeScript sources (tests, `node --import tsx`): a worker thread does
// not inherit the parent's loader, so it registers tsx itself. Built code starts history-worker.js.
const { register } = await import('tsx/esm/api');
register();
await import('./history-worker.ts');
