/**
 * Operator commands on the directory, stored so every instance sees them:
 *
 *   npm run admin -- add-payee --id payee_landlord --name "Al Futtaim Properties" \
 *        [--username test | --global] [--alias "rent,landlord"] [--iban AE…] [--category bills_utilities]
 *   npm run admin -- set-profile --username test --first-name Sara --last-name Haddad [--full-name "Sara Haddad"]
 *   npm run admin -- user-id --username test        (prints the pseudonymous user_id)
 *   npm run admin -- list-payees --username test
 *   npm run admin -- settlement list|batch|csv|pain001|paid|returned|reconcile …  (scripts/lib/admin-settlement.ts)
 *
 * Users are named by their online-banking username (and --bank, default VERIFY_BANK_ID);
 * the store only ever sees the keyed pseudonym, as everywhere else.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../src/config.js';
import { Store } from '../src/adapters/store/store.js';
import { userIdFor } from '../src/domain/crypto.js';
import { loadDirectory } from '../src/domain/directory.js';
import { resolveSecrets } from '../src/runtime.js';
import { settlementCommand, SETTLEMENT_USAGE } from './lib/admin-settlement.js';

const usage = `usage: npm run admin -- <add-payee|set-profile|user-id|list-payees> [options]
  add-payee   --id ID --name NAME [--username U | --global] [--alias a,b] [--iban IBAN] [--category ID]
  set-profile --username U [--first-name F] [--last-name L] [--full-name N]
  user-id     --username U
  list-payees --username U
${SETTLEMENT_USAGE}`;

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'settlement') {
    const { config, keys } = resolveSecrets(loadConfig());
    return settlementCommand(rest, config, keys);
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      id: { type: 'string' },
      name: { type: 'string' },
      username: { type: 'string' },
      bank: { type: 'string' },
      global: { type: 'boolean', default: false },
      alias: { type: 'string' },
      iban: { type: 'string' },
      category: { type: 'string' },
      'first-name': { type: 'string' },
      'last-name': { type: 'string' },
      'full-name': { type: 'string' },
    },
  });
  const { config, keys } = resolveSecrets(loadConfig());
  const userIdOf = () => {
    if (!values.username) throw new Error('--username is required');
    return userIdFor(keys, values.bank ?? config.verifyBankId, values.username);
  };
  const fail = (message: string) => {
    process.stderr.write(`${message}\n${usage}\n`);
    return 2;
  };

  if (command === 'user-id') {
    process.stdout.write(`${userIdOf()}\n`);
    return 0;
  }
  const store = await Store.open(config.databaseUrl);
  try {
    const now = Date.now();
    switch (command) {
      case 'add-payee': {
        if (!values.id || !/^[A-Za-z0-9_.-]{1,64}$/.test(values.id)) return fail('--id is required (letters, digits, _ . -; at most 64)');
        if (!values.name) return fail('--name is required');
        if (!values.global && !values.username) return fail('name the customer with --username, or use --global for a biller');
        const categories = new Set(loadDirectory(config.directoryFile).categories.map((c) => c.category_id));
        if (values.category && !categories.has(values.category)) return fail(`--category must be one of: ${[...categories].join(', ')}`);
        if (values.iban && !/^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(values.iban)) return fail('--iban is not an IBAN');
        const aliases = (values.alias ?? '').split(',').map((a) => a.trim()).filter(Boolean);
        await store.upsertPayee(
          { user_id: values.global ? '' : userIdOf(), payee_id: values.id, name: values.name, aliases_json: JSON.stringify(aliases), iban: values.iban ?? null, category: values.category ?? null },
          now,
        );
        process.stdout.write(`payee ${values.id} saved${values.global ? ' for every customer' : ''}\n`);
        return 0;
      }
      case 'set-profile': {
        const first = values['first-name'] ?? null;
        const last = values['last-name'] ?? null;
        const full = values['full-name'] ?? ([first, last].filter(Boolean).join(' ') || null);
        await store.upsertProfile({ user_id: userIdOf(), first_name: first, last_name: last, full_name: full }, now);
        process.stdout.write('profile saved\n');
        return 0;
      }
      case 'list-payees': {
        for (const p of await store.listPayees(userIdOf())) process.stdout.write(`${p.payee_id}\t${p.name}\t${p.user_id ? 'customer' : 'global'}\n`);
        return 0;
      }
      default:
        return fail(command ? `unknown command ${command}` : 'a command is required');
    }
  } finally {
    await store.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`admin: ${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
