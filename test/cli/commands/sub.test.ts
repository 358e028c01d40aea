import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type Impl,
  normalise,
  type RunningMosquitto,
  runTool,
  startMosquitto,
  startTool,
} from '../../helpers/mosquitto.js';

// Every case runs mosquitto_sub and `mothership sub` against the same real mosquitto broker and
// compares stdout, stderr and exit code (client ids and per-implementation topics normalised).
let broker: RunningMosquitto;
let locked: RunningMosquitto;
let p: string;

beforeAll(async () => {
  [broker, locked] = await Promise.all([startMosquitto(), startMosquitto({ allowAnonymous: false })]);
  p = String(broker.port);
  // Retained fixtures every run reads the same way.
  const pubs: string[][] = [
    ['-t', 'fix/text', '-m', 't=24.1C, h=26.5%.', '-q', '1'],
    ['-t', 'fix/json', '-m', '{"on":true,"n":[1,2.5]}'],
    ['-t', 'fix/bin', '-m', 'ab\tc"\\'],
    [
      '-t',
      'fix/props',
      '-m',
      'x',
      '-V',
      '5',
      '-D',
      'publish',
      'content-type',
      'text/plain',
      '-D',
      'publish',
      'user-property',
      'k',
      'v',
      '-D',
      'publish',
      'response-topic',
      'reply/here',
      '-D',
      'publish',
      'correlation-data',
      'abc',
      '-D',
      'publish',
      'payload-format-indicator',
      '1',
    ],
  ];
  await Promise.all(pubs.map((a) => runTool('mosquitto', 'pub', ['-p', p, '-r', ...a])));
});
afterAll(async () => {
  await Promise.all([broker?.stop(), locked?.stop()]);
});

async function both(args: (impl: Impl) => string[]) {
  const [ref, ours] = await Promise.all([
    runTool('mosquitto', 'sub', args('mosquitto')),
    runTool('mothership', 'sub', args('mothership')),
  ]);
  return { ref: normalise(ref), ours: normalise(ours) };
}

/** %j/%J carry the receive time ("tst"), which differs between two runs. */
const withoutTime = (r: { stdout: string; stderr: string; code: number | null }) => ({
  ...r,
  stdout: r.stdout.replace(/"tst":\s*"[^"]*"/g, '"tst":"T"'),
});

async function expectSame(args: (impl: Impl) => string[]) {
  const { ref, ours } = await both(args);
  expect(withoutTime(ours)).toEqual(withoutTime(ref));
  return ref;
}

describe.concurrent('mothership sub usage errors match mosquitto_sub', () => {
  test.each([
    ['no topic', []],
    ['bad wildcard', ['-t', 'a/#/b']],
    ['bad + wildcard', ['-t', 'a/b+']],
    ['pub-only flag', ['-t', 'a', '-m', 'x']],
    ['-C 0', ['-t', 'a', '-C', '0']],
    ['-W 0', ['-t', 'a', '-W', '0']],
    ['-F bad specifier', ['-t', 'a', '-F', '%Z']],
    ['-F incomplete', ['-t', 'a', '-F', 'abc%']],
    ['-F bad escape', ['-t', 'a', '-F', '\\q']],
    ['-T bad filter', ['-t', 'a', '-T', '#/a']],
    ['-U bad topic', ['-t', 'a', '-U', 'a+']],
    ['-R with --retained-only', ['-t', 'a', '-R', '--retained-only']],
    ['--random-filter 0', ['-t', 'a', '--random-filter', '0']],
    ['-q 7', ['-t', 'a', '-q', '7']],
    ['-D subscribe with a publish-only property', ['-t', 'a', '-D', 'subscribe', 'content-type', 'x']],
  ])('%s', async (_name, args) => {
    const ref = await expectSame(() => args);
    expect(ref.code).toBe(1);
    expect(ref.stderr).not.toBe('');
  });
});

describe.concurrent('mothership sub against mosquitto, flag by flag', () => {
  test.each([
    ['plain', ['-t', 'fix/text']],
    ['-v', ['-t', 'fix/text', '-v']],
    ['-N', ['-t', 'fix/text', '-N']],
    ['-v -N', ['-t', 'fix/text', '-v', '-N']],
    ['-q 1', ['-t', 'fix/text', '-q', '1', '-v']],
    [
      '-F topic/payload/qos/retain/len/mid/hex',
      ['-t', 'fix/text', '-q', '1', '-F', '%t|%p|%q|%r|%l|%m|%x|%X|%%|@@'],
    ],
    [
      '-F widths and precision',
      ['-t', 'fix/text', '-F', '[%10t][%-10t][%.3t][%08l][%-5l|][%20p][%-20p][%6x]'],
    ],
    ['-F escapes', ['-t', 'fix/text', '-F', '%t\\t%p\\n--']],
    ['-F v5 properties', ['-t', 'fix/props', '-V', '5', '-F', '%C|%P|%R|%D|%F|[%5A]|[%E]|[%S]']],
    ['-F %j', ['-t', 'fix/bin', '-F', '%j']],
    ['-F %J', ['-t', 'fix/json', '-F', '%J']],
    ['-F %J --pretty', ['-t', 'fix/json', '-F', '%J', '--pretty']],
    ['-F %j with v5 properties', ['-t', 'fix/props', '-V', '5', '-F', '%j']],
    ['-F %J on a non-JSON payload', ['-t', 'fix/text', '-F', 'a%Jb']],
    ['-d v3.1.1', ['-t', 'fix/text', '-d', '-q', '1']],
    ['-d v5', ['-t', 'fix/text', '-d', '-q', '2', '-V', 'mqttv5']],
    ['-d v3.1', ['-t', 'fix/text', '-d', '-V', 'mqttv31']],
    ['-L', ['-L', 'mqtt://127.0.0.1:PORT/fix/text', '-v']],
    ['-i and -k', ['-t', 'fix/text', '-i', 'watcher', '-k', '10', '-d']],
  ])('%s', async (_name, args) => {
    const withPort = args.map((a) => a.replace('PORT', p));
    const ref = await expectSame(() =>
      withPort[0] === '-L' ? [...withPort, '-C', '1'] : ['-p', p, ...withPort, '-C', '1'],
    );
    expect(ref.code).toBe(0);
    expect(ref.stdout).not.toBe('');
  });

  test('-F time specifiers print the same shape', async () => {
    const { ref, ours } = await both(() => [
      '-p',
      p,
      '-t',
      'fix/text',
      '-C',
      '1',
      '-F',
      '%I|%U|@Y-@m-@d @H:@M:@S.@N|%j',
    ]);
    const shape = (s: string) => s.replace(/\d/g, '9');
    expect(shape(ours.stdout)).toBe(shape(ref.stdout));
    expect(ours.code).toBe(ref.code);
  });

  test('multiple -t, -T filters out, -R skips retained', async () => {
    await expectSame(() => [
      '-p',
      p,
      '-t',
      'fix/+',
      '-T',
      'fix/props',
      '-T',
      'fix/bin',
      '-T',
      'fix/text',
      '-v',
      '-C',
      '1',
    ]);
    // -W leaves room for node's start on a loaded machine: run out before the CONNACK, it exits 255.
    await expectSame(() => ['-p', p, '-t', 'fix/text', '-t', 'fix/json', '-R', '-v', '-W', '5']);
  });

  test('-E exits once subscribed; -U unsubscribes', async () => {
    const ref = await expectSame(() => ['-p', p, '-t', 'nothing/here', '-U', 'other', '-E', '-d']);
    expect(ref.stdout).toContain('Subscribed (mid: 1): 0');
  });

  test('-W times out with "Timed out" and exit code 27 (v5 too)', async () => {
    // -W 5, not 1: a sub still starting when -W runs out exits 255 (not connected), on a loaded machine.
    const ref = await expectSame(() => ['-p', p, '-t', 'nothing/here', '-W', '5', '-d', '-V', '5', '-R']);
    expect(ref.code).toBe(27);
    expect(ref.stderr).toBe('Timed out\n');
  });

  test('--retained-only prints retained messages and leaves at the first live one', async () => {
    const run = (impl: Impl) =>
      startTool(impl, 'sub', ['-p', p, '-t', 'fix/text', '-t', `ro/${impl}`, '--retained-only', '-v', '-d']);
    const subs = [run('mosquitto'), run('mothership')] as const;
    await Promise.all(subs.map((s) => s.waitFor('Subscribed')));
    await Promise.all(
      (['mosquitto', 'mothership'] as const).map((impl) =>
        runTool('mosquitto', 'pub', ['-p', p, '-t', `ro/${impl}`, '-m', 'live']),
      ),
    );
    const [ref, ours] = await Promise.all(subs.map((s) => s.done()));
    expect(normalise(ours!)).toEqual(normalise(ref!));
    expect(ref!.stdout).toContain('fix/text t=24.1C, h=26.5%.');
    expect(ref!.stdout).not.toContain(' live');
  });

  test.each([
    ['0', '311'],
    ['1', '311'],
    ['2', '311'],
    ['1', '5'],
    ['2', '5'],
  ])('live messages at QoS %s (v%s) with -d, in libmosquitto order', async (qos, version) => {
    const run = (impl: Impl) =>
      startTool(impl, 'sub', [
        '-p',
        p,
        '-t',
        `live/${impl}/${qos}/${version}`,
        '-q',
        qos,
        '-V',
        version,
        '-d',
        '-v',
        '-C',
        '2',
      ]);
    const subs = [run('mosquitto'), run('mothership')] as const;
    await Promise.all(subs.map((s) => s.waitFor('Subscribed')));
    for (const [i, impl] of (['mosquitto', 'mothership'] as const).entries()) {
      await runTool('mosquitto', 'pub', [
        '-p',
        p,
        '-t',
        `live/${impl}/${qos}/${version}`,
        '-m',
        'on',
        '-q',
        qos,
      ]);
      // The second message must not overtake the first one's QoS 2 handshake, or the debug lines
      // interleave by timing rather than by the tool.
      await subs[i]!.waitFor(`live/${impl}/${qos}/${version} on`);
      await runTool('mosquitto', 'pub', ['-p', p, '-t', `live/${impl}/${qos}/${version}`, '-n', '-q', qos]);
    }
    const [ref, ours] = await Promise.all(subs.map((s) => s.done()));
    expect(normalise(ours!)).toEqual(normalise(ref!));
    expect(ref!.stdout).toContain(`(null)\n`);
    expect(ref!.code).toBe(0);
  });

  test('--remove-retained clears what it saw', async () => {
    await Promise.all(
      (['mosquitto', 'mothership'] as const).map((impl) =>
        runTool('mosquitto', 'pub', ['-p', p, '-t', `rr/${impl}`, '-m', 'old', '-r']),
      ),
    );
    const { ref, ours } = await both((impl) => [
      '-p',
      p,
      '-t',
      `rr/${impl}`,
      '--remove-retained',
      '-v',
      '-W',
      '5',
    ]);
    expect(ours).toEqual(ref);
    for (const impl of ['mosquitto', 'mothership']) {
      const left = await runTool('mosquitto', 'sub', ['-p', p, '-t', `rr/${impl}`, '-W', '1']);
      expect(left.stdout).toBe('');
    }
  });

  test('-W with v5 sends the will (disconnect reason 4), as mosquitto_sub does', async () => {
    const { ref, ours } = await both((impl) => [
      '-p',
      p,
      '-t',
      'nothing',
      '-W',
      '5',
      '-V',
      '5',
      '--will-topic',
      `lastwill/${impl}`,
      '--will-payload',
      'bye',
      '--will-retain',
    ]);
    expect(ours).toEqual(ref);
    const wills = await runTool('mosquitto', 'sub', [
      '-p',
      p,
      '-t',
      'lastwill/+',
      '-v',
      '-C',
      '2',
      '-W',
      '3',
    ]);
    expect(wills.stdout.split('\n').sort().join('\n')).toBe(
      '\nlastwill/mosquitto bye\nlastwill/mothership bye',
    );
  });

  test('refused CONNECT: message, -d lines and exit code (v3.1.1 and v5)', async () => {
    const lp = String(locked.port);
    const v3 = await expectSame(() => ['-p', lp, '-t', 'a', '-d']);
    expect(v3.code).toBe(5);
    const v5 = await expectSame(() => ['-p', lp, '-t', 'a', '-V', '5']);
    expect(v5).toEqual({ stdout: '', stderr: 'Connection error: Not authorized\n', code: 135 });
  });

  test('connection refused', async () => {
    const closed = await startMosquitto();
    const port = String(closed.port);
    await closed.stop();
    const ref = await expectSame(() => ['-p', port, '-t', 'a']);
    expect(ref).toEqual({ stdout: '', stderr: 'Error: Connection refused\n', code: 1 });
  });

  test('--json (ours only): topic, payload, qos, retain, properties, time', async () => {
    const r = await runTool('mothership', 'sub', [
      '-p',
      p,
      '-t',
      'fix/props',
      '-V',
      '5',
      '--json',
      '-C',
      '1',
    ]);
    expect(r.code).toBe(0);
    const obj = JSON.parse(r.stdout);
    expect(obj).toMatchObject({
      topic: 'fix/props',
      payload: 'x',
      qos: 0,
      retain: true,
      properties: {
        'content-type': 'text/plain',
        'user-properties': { k: 'v' },
        'response-topic': 'reply/here',
      },
    });
    expect(Number.isNaN(Date.parse(obj.time))).toBe(false);
  });
});
