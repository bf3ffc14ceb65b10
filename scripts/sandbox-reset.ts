/**
 * `npm run sandbox:reset`: the embedded Verify sandbox starts over (balances refilled,
 * references from 1) at the next start. Its state is kept beside the development SQLite
 * database; stop the server first, or it writes the file again.
 */
import { existsSync, rmSync } from 'node:fs';
import { loadConfig } from '../src/config.js';
import { sandboxStateFile } from '../src/runtime.js';

const file = sandboxStateFile(loadConfig());
if (!file) {
  process.stdout.write('The embedded sandbox keeps no state with this DATABASE_URL (only beside a SQLite file): nothing to reset.\n');
} else if (!existsSync(file)) {
  process.stdout.write(`No sandbox state at ${file}: it already starts fresh.\n`);
} else {
  rmSync(file);
  process.stdout.write(`Removed ${file}: the embedded sandbox starts fresh at the next start.\n`);
}
