import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type Impl,
  normalise,
  type RunningMosquitto,
  runTool,
  startMosquitto,
  startTool,
} from '../../helpers/mosquitto.js';

// Every case runs mosquitto_pub and `mothership pub` against the same real mosquitto broker and
// compares stdout, stderr and exit code (client ids normalised).
let broker: RunningMosquitto;
let locked: RunningMosquitto;
let p: string;
const dir = mkdtempSync(join(tmpdir(), 'mothership-pub-test-'));

beforeAll(async () => {
  [broker, locked] = await Promise.all([startMosquitto(), startMosquitto({ allowAnonymous: false })]);
  p = String(broker.port);
});
afterAll(async () => {
  await Promise.all([broker?.stop(), locked?.stop()]);
});

async function both(args: (impl: Impl) => string[], stdin?: string) {
  const [ref, ours] = await Promise.all([
    runTool('mosquitto', 'pub', args('mosquitto'), stdin),
    runTool('mothership', 'pub', args('mothership'), stdin),
  ]);
  return { ref: normalise(ref), ours: normalise(ours) };
}

async function expectSame(args: (impl: Impl) => string[], stdin?: string) {
  const { ref, ours } = await both(args, stdin);
  expect(ours).toEqual(ref);
  return ref;
}

/** What a mosquitto_sub sees on `topic` after a publisher ran: retained message read back. */
async function readRetained(topic: string, version = '311') {
  const r = await runTool('mosquitto', 'sub', [
    '-p',
    p,
    '-t',
    topic,
    '-C',
    '1',
    '-W',
    '3',
    '-V',
    version,
    '-F',
    '%r %q %t %l %p|%C|%P|%E',
  ]);
  return r.stdout;
}

describe.concurrent('mothership pub usage errors match mosquitto_pub', () => {
  const cases: Array<[string, string[]]> = [
    ['unknown flag', ['--frobnicate']],
    ['combined short flags are unknown', ['-dr', '-t', 'a', '-m', 'x']],
    ['sub-only flag', ['-t', 'a', '-m', 'x', '-v']],
    ['two message modes', ['-t', 'a', '-m', 'x', '-n']],
    ['-m without value', ['-t', 'a', '-m']],
    ['-t without value', ['-t']],
    ['-h without value', ['-h']],
    ['-p out of range', ['-p', '70000', '-t', 'a', '-m', 'x']],
    ['-q 3', ['-q', '3', '-t', 'a', '-m', 'x']],
    ['-k too small', ['-k', '2', '-t', 'a', '-m', 'x']],
    ['wildcard publish topic', ['-t', 'a/#', '-m', 'x']],
    ['-V bogus', ['-V', '4', '-t', 'a', '-m', 'x']],
    ['-i with -I', ['-i', 'x', '-I', 'y']],
    ['-c without id', ['-c', '-t', 'a', '-m', 'x']],
    ['-x not a number', ['-x', 'soon', '-t', 'a', '-m', 'x']],
    ['-x infinite without id, v5', ['-V', 'mqttv5', '-x', '-1', '-t', 'a', '-m', 'x']],
    ['--will-payload without topic', ['--will-payload', 'x', '-t', 'a', '-m', 'x']],
    ['--will-retain without topic', ['--will-retain', '-t', 'a', '-m', 'x']],
    ['--will-qos 5', ['--will-qos', '5']],
    ['--will-topic wildcard', ['--will-topic', 'a/+']],
    ['--cert without --key', ['--cert', 'c.pem', '-t', 'a', '-m', 'x']],
    ['-D not enough arguments', ['-D', 'publish', 'content-type']],
    ['-D bad command', ['-D', 'frob', 'content-type', 'x']],
    ['-D bad property', ['-D', 'publish', 'frob', 'x']],
    ['-D property not allowed', ['-D', 'connect', 'content-type', 'x']],
    ['-D value out of range', ['-D', 'publish', 'payload-format-indicator', '300']],
    ['-L bad scheme', ['-L', 'http://localhost/a', '-m', 'x']],
    ['-L without topic', ['-L', 'mqtt://localhost', '-m', 'x']],
    ['--repeat 0', ['--repeat', '0']],
    ['missing file', ['-t', 'a', '-f', '/nonexistent/payload.bin']],
    ['--quiet hides file error', ['--quiet', '-t', 'a', '-f', '/nonexistent/payload.bin']],
  ];
  test.each(cases)('%s', async (_name, args) => {
    const ref = await expectSame(() => args);
    expect(ref.code).toBe(1);
  });

  test.each([
    ['no topic or message', []],
    ['topic without message', ['-t', 'a']],
    ['message without topic', ['-m', 'x']],
  ])('%s: error on stderr, usage on stdout, exit 1', async (_name, args) => {
    const { ref, ours } = await both(() => args);
    expect(ours.stderr).toBe(ref.stderr);
    expect(ours.code).toBe(ref.code);
    expect(ours.stdout.split('\n')[0]).toBe(ref.stdout.split('\n')[0]);
  });

  test('--help prints usage on stdout and exits 1, as mosquitto_pub does', async () => {
    const { ref, ours } = await both(() => ['--help']);
    expect(ours.code).toBe(ref.code);
    expect(ours.stdout.split('\n')[0]).toBe(ref.stdout.split('\n')[0]);
    expect(ours.stdout).toContain('Usage: mothership pub');
  });
});

describe.concurrent('mothership pub against mosquitto, flag by flag', () => {
  test.each([
    ['0', '311'],
    ['1', '311'],
    ['2', '311'],
    ['0', '5'],
    ['1', '5'],
    ['2', '5'],
    ['1', '31'],
  ])('-d -q %s -V %s prints the same debug lines', async (qos, version) => {
    const ref = await expectSame((impl) => [
      '-d',
      '-p',
      p,
      '-t',
      `dbg/${impl}`,
      '-m',
      'on',
      '-q',
      qos,
      '-V',
      version,
    ]);
    expect(ref.code).toBe(0);
    expect(ref.stdout).toContain(`sending PUBLISH (d0, q${qos}, r0, m1, 'dbg/mothership', ... (2 bytes))`);
  });

  test('seed 004: -d -t output -m on -q 1', async () => {
    const ref = await expectSame(() => [
      '-d',
      '-h',
      '127.0.0.1',
      '-p',
      p,
      '-t',
      'output',
      '-m',
      'on',
      '-q',
      '1',
    ]);
    expect(ref.stdout).toBe(
      [
        'Client (null) sending CONNECT',
        'Client (null) received CONNACK (0)',
        "Client (null) sending PUBLISH (d0, q1, r0, m1, 'output', ... (2 bytes))",
        'Client (null) received PUBACK (Mid: 1, RC:0)',
        'Client (null) sending DISCONNECT',
        '',
      ].join('\n'),
    );
  });

  test('-r -q 1 retains the message the same way', async () => {
    await expectSame((impl) => ['-p', p, '-t', `ret/${impl}`, '-m', 'kept', '-r', '-q', '1']);
    expect(await readRetained('ret/mothership')).toBe('1 0 ret/mothership 4 kept|||\n');
    expect(await readRetained('ret/mosquitto')).toBe('1 0 ret/mosquitto 4 kept|||\n');
  });

  test('-n -r clears a retained message', async () => {
    await expectSame((impl) => ['-p', p, '-t', `clear/${impl}`, '-m', 'x', '-r']);
    await expectSame((impl) => ['-d', '-p', p, '-t', `clear/${impl}`, '-n', '-r']);
    const r = await runTool('mosquitto', 'sub', ['-p', p, '-t', 'clear/+', '-W', '1']);
    expect(r.stdout).toBe('');
  });

  test('-f sends a file, -s sends stdin', async () => {
    const file = join(dir, 'payload.txt');
    writeFileSync(file, 'line one\nline two\n');
    const f = await expectSame((impl) => ['-d', '-p', p, '-t', `file/${impl}`, '-f', file, '-r']);
    expect(f.stdout).toContain('(18 bytes)');
    const s = await expectSame(
      (impl) => ['-d', '-p', p, '-t', `stdin/${impl}`, '-s', '-r'],
      't=24.1C, h=26.5%.',
    );
    expect(s.stdout).toContain('(17 bytes)');
    expect(await readRetained('stdin/mothership')).toBe('1 0 stdin/mothership 17 t=24.1C, h=26.5%.|||\n');
  });

  test('-l sends one message per line, the last even without a newline', async () => {
    const { ref, ours } = await both(
      (impl) => ['-d', '-p', p, '-t', `lines/${impl}`, '-l', '-q', '1'],
      'on\noff\n\nlast',
    );
    // Four QoS 1 messages are in flight at once, so where the PUBACKs fall among the PUBLISHes is
    // timing, for mosquitto_pub too (usually all four PUBLISHes first; under load mosquitto_pub
    // sent m4 after PUBACKs 1 and 2 while ours sent it before). Compare what each tool sent, in
    // order, and what it received, in order.
    const byDirection = (r: typeof ref) => {
      const lines = r.stdout.split('\n');
      return {
        code: r.code,
        stderr: r.stderr,
        sent: lines.filter((l) => !l.includes(' received ')),
        received: lines.filter((l) => l.includes(' received ')),
      };
    };
    expect(byDirection(ours)).toEqual(byDirection(ref));
    expect(ref.stdout.match(/sending PUBLISH/g)).toHaveLength(4);
    expect(ref.stdout).toContain("m4, 'lines/mothership', ... (4 bytes))");
  });

  test('--repeat 3 --repeat-delay 0.1', async () => {
    const ref = await expectSame((impl) => [
      '-d',
      '-p',
      p,
      '-t',
      `rep/${impl}`,
      '-m',
      'x',
      '--repeat',
      '3',
      '--repeat-delay',
      '0.1',
      '-q',
      '1',
    ]);
    expect(ref.stdout).toContain('received PUBACK (Mid: 3, RC:0)');
  });

  test('-L mqtt://host:port/topic', async () => {
    const ref = await expectSame((impl) => ['-d', '-L', `mqtt://127.0.0.1:${p}/url/${impl}`, '-m', 'x']);
    expect(ref.code).toBe(0);
  });

  test('-i sets the client id, -k the keepalive', async () => {
    const ref = await expectSame(() => ['-d', '-p', p, '-i', 'board-7', '-k', '30', '-t', 'id', '-m', 'x']);
    expect(ref.stdout).toContain('Client board-7 sending CONNECT');
  });

  test('-I prefixes the process id', async () => {
    const { ref, ours } = await both(() => ['-d', '-p', p, '-I', 'pfx-', '-t', 'id', '-m', 'x']);
    const strip = (s: string) => s.replace(/pfx-\d+/g, 'pfx-PID');
    expect(strip(ours.stdout)).toBe(strip(ref.stdout));
    expect(ref.stdout).toMatch(/^Client pfx-\d+ sending CONNECT/);
  });

  test('-D publish properties reach a v5 subscriber', async () => {
    await expectSame((impl) => [
      '-p',
      p,
      '-t',
      `props/${impl}`,
      '-m',
      'x',
      '-r',
      '-D',
      'publish',
      'content-type',
      'text/plain',
      '-D',
      'publish',
      'user-property',
      'room',
      'kitchen',
      '-D',
      'publish',
      'message-expiry-interval',
      '60',
    ]);
    const ours = await readRetained('props/mothership', '5');
    expect(ours).toMatch(/^1 0 props\/mothership 1 x\|text\/plain\|room:kitchen\|\d+\n$/);
    // The remaining expiry counts down, so it may differ by a second.
    const ref = await readRetained('props/mosquitto', '5');
    expect(ours.replace(/\|\d+\n$/, '')).toBe(ref.replace('mosquitto', 'mothership').replace(/\|\d+\n$/, ''));
  });

  test('-u/-P refused by a broker without anonymous access: message and exit code (v3.1.1 and v5)', async () => {
    const lp = String(locked.port);
    const v3 = await expectSame(() => ['-d', '-p', lp, '-u', 'nobody', '-P', 'wrong', '-t', 'a', '-m', 'x']);
    expect(v3.code).toBe(5);
    expect(v3.stderr).toBe(
      'Connection error: Connection Refused: not authorised.\nError: The connection was refused.\n',
    );
    const v5 = await expectSame(() => ['-p', lp, '-t', 'a', '-m', 'x', '-V', 'mqttv5']);
    expect(v5.code).toBe(135);
  });

  test('connection refused: same message and exit code', async () => {
    const closed = await startMosquitto();
    const port = String(closed.port);
    await closed.stop();
    const ref = await expectSame(() => ['-d', '-p', port, '-t', 'a', '-m', 'x']);
    expect(ref).toEqual({ stdout: '', stderr: 'Error: Connection refused\n', code: 1 });
  });

  test('--will-topic/--will-payload/--will-qos/--will-retain are accepted and the publish works', async () => {
    await expectSame((impl) => [
      '-p',
      p,
      '-t',
      `willpub/${impl}`,
      '-m',
      'x',
      '--will-topic',
      `will/${impl}`,
      '--will-payload',
      'gone',
      '--will-qos',
      '1',
      '--will-retain',
    ]);
    // A clean DISCONNECT discards the will, so nothing is retained on the will topic.
    const r = await runTool('mosquitto', 'sub', ['-p', p, '-t', 'will/mothership', '-W', '1']);
    expect(r.stdout).toBe('');
  });

  test('--json (ours only) prints what was sent', async () => {
    const r = await runTool('mothership', 'pub', [
      '-p',
      p,
      '-t',
      'json/pub',
      '-m',
      'on',
      '-q',
      '1',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const obj = JSON.parse(r.stdout);
    expect(obj).toMatchObject({ topic: 'json/pub', payload: 'on', qos: 1, retain: false, properties: {} });
    expect(Number.isNaN(Date.parse(obj.time))).toBe(false);
  });

  test('with no -h it uses localhost (mDNS is off in tests)', async () => {
    // mosquitto listens on 127.0.0.1 only; "localhost" resolves there on this machine.
    const ref = await expectSame(() => ['-p', p, '-t', 'local', '-m', 'x', '-d']);
    expect(ref.code).toBe(0);
  });
});

test('a subscriber sees what mothership pub sends', async () => {
  // -C 2 ends it; no -W: two `mothership pub` starts can take longer than any fixed wait under load
  // (a lost message still fails, when done()'s hang guard ends the sub).
  const sub = startTool('mosquitto', 'sub', ['-d', '-p', p, '-t', 'live/#', '-v', '-C', '2']);
  await sub.waitFor('Subscribed');
  await runTool('mothership', 'pub', ['-p', p, '-t', 'live/a', '-m', 'hello']);
  await runTool('mothership', 'pub', ['-p', p, '-t', 'live/b', '-m', 'world', '-q', '2']);
  const r = await sub.done();
  expect(r.stdout).toContain('live/a hello\n');
  expect(r.stdout).toContain('live/b world\n');
});
