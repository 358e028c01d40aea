/** `mothership bridge remove NAME [--force]`: stops a bridge added through the API, and drops its queue. */
import { parseCommandArgs, usageError } from '../command-args.js';
import { HUB_FLAGS, HUB_FLAGS_HELP, HubApi } from '../hub-api.js';

const HELP = `Usage: mothership bridge remove NAME [--force] [-h HOST] [-p PORT] [-u USER -P PASSWORD]

Stops a bridge added with 'mothership bridge add' and takes it out of the hub's bridges.conf, with
its queue. Refused while the queue holds messages the remote has not acknowledged, unless --force
(then it says how many were dropped). A bridge of the config file is removed there, then 'kill -HUP'.
Needs the hub's administration right (write on $hub/admin when it has an ACL file).

Options:
      --force           drop the queued messages
${HUB_FLAGS_HELP}
`;

const OPTIONS = { ...HUB_FLAGS, force: { type: 'boolean' } } as const;

export async function remove(args: string[]): Promise<number> {
  const named = args[0] !== undefined && !args[0].startsWith('-');
  const flags = parseCommandArgs('bridge', named ? args.slice(1) : args, OPTIONS);
  if (flags.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!named) throw usageError('bridge', 'remove needs the name of the bridge (mothership bridge list)');
  const name = args[0]!;
  const api = await HubApi.open('bridge', flags);
  const { dropped } = await api.post<{ dropped: number }>(`/bridges/${encodeURIComponent(name)}/remove`, {
    force: flags.force === true,
  });
  process.stdout.write(
    `Removed bridge ${name}${dropped > 0 ? `: ${dropped} queued message(s) dropped` : ' (its queue was empty)'}.\n`,
  );
  return 0;
}
