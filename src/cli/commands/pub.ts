// Placeholder until the 'pub' command lands; it fails loudly rather than pretending to work.
export async function run(_args: string[]): Promise<number> {
  process.stderr.write('mothership pub: not available yet in this build\n');
  return 2;
}
