// Runs the CLI straight from TypeScript source (tests and development): `node --import tsx src/cli/run-source.ts up`.
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`mothership: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
