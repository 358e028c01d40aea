import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, parseDuration } from '../../src/config/mosquitto-conf.js';
import { ErrorCodes, isMothershipError } from '../../src/errors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ms-conf-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function errorOf(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe("the seeds' configs parse unchanged", () => {
  it('seed 000/001: persistence false, listener 1883 192.168.0.6, protocol mqtt', () => {
    const c = parseConfig(
      'persistence false\n# mqtt\nlistener 1883 192.168.0.6\nprotocol mqtt\n',
      '/etc/doan.conf',
    );
    expect(c.warnings).toEqual([]);
    expect(c.persistence).toBe(false);
    expect(c.listeners).toEqual([
      { port: 1883, bindAddress: '192.168.0.6', protocol: 'mqtt', source: '/etc/doan.conf:3' },
    ]);
    expect(c.allowAnonymous).toBeUndefined();
  });

  it('allow_anonymous lan (ours): this machine and the local network, also per listener', () => {
    expect(parseConfig('listener 1883\nallow_anonymous lan\n', '/x/m.conf').allowAnonymous).toBe('lan');
    const c = parseConfig('per_listener_settings true\nlistener 1883\nallow_anonymous lan\n', '/x/m.conf');
    expect(c.listeners[0]).toMatchObject({ allowAnonymous: 'lan' });
  });

  it('seed 002/003: listener 1883, allow_anonymous true (CRLF line ends too)', () => {
    const c = parseConfig('listener 1883\r\nallow_anonymous true\r\n', '/x/mosquitto.conf');
    expect(c.warnings).toEqual([]);
    expect(c.listeners).toEqual([{ port: 1883, protocol: 'mqtt', source: '/x/mosquitto.conf:1' }]);
    expect(c.allowAnonymous).toBe(true);
    expect(c.listenersConfigured).toBe(true);
  });

  it("Debian's default /etc/mosquitto/mosquitto.conf, read from disk with its include_dir", async () => {
    const c = await loadConfig('/etc/mosquitto/mosquitto.conf');
    expect(c.persistence).toBe(true);
    expect(c.persistenceLocation).toBe('/var/lib/mosquitto');
    expect(c.log.dest).toEqual([{ type: 'file', path: '/var/log/mosquitto/mosquitto.log' }]);
    expect(c.files[0]).toBe('/etc/mosquitto/mosquitto.conf');
    expect(c.warnings).toEqual([
      "/etc/mosquitto/mosquitto.conf:6: 'pid_file' is a mosquitto directive Mothership does not support yet; ignored",
    ]);
    // No listener in it: mosquitto's default listener on 1883.
    expect(c.listeners).toEqual([{ port: 1883, protocol: 'mqtt', source: 'default listener' }]);
    expect(c.listenersConfigured).toBe(false);
  });
});

describe('listeners', () => {
  it('each listener line opens a block that following per-listener directives apply to', () => {
    const c = parseConfig(
      [
        'listener 1883',
        'listener 8080 127.0.0.1',
        'protocol websockets',
        'listener 8883',
        'certfile certs/server.crt',
        'keyfile certs/server.key',
        'cafile certs/ca.crt',
        'require_certificate true',
        'use_identity_as_username true',
      ].join('\n'),
      '/srv/ms/ms.conf',
    );
    expect(c.listeners).toEqual([
      { port: 1883, protocol: 'mqtt', source: '/srv/ms/ms.conf:1' },
      { port: 8080, bindAddress: '127.0.0.1', protocol: 'websockets', source: '/srv/ms/ms.conf:2' },
      {
        port: 8883,
        protocol: 'mqtt',
        source: '/srv/ms/ms.conf:4',
        tls: {
          certfile: '/srv/ms/certs/server.crt',
          keyfile: '/srv/ms/certs/server.key',
          cafile: '/srv/ms/certs/ca.crt',
          requireCertificate: true,
          useIdentityAsUsername: true,
        },
      },
    ]);
  });

  it('port and bind_address configure the default listener, next to explicit ones (mosquitto 2), with a deprecation warning', () => {
    const c = parseConfig(
      'port 1884\nbind_address 127.0.0.1\nlistener 9001\nprotocol websockets\n',
      '/c.conf',
    );
    expect(c.listeners.map((l) => [l.port, l.bindAddress, l.protocol])).toEqual([
      [1884, '127.0.0.1', 'mqtt'],
      [9001, undefined, 'websockets'],
    ]);
    expect(c.warnings[0]).toMatch(/^\/c\.conf:1: 'port' is deprecated/);
    expect(c.warnings[1]).toMatch(/^\/c\.conf:2: 'bind_address' is deprecated/);
  });

  it('an empty file means the default listener on 1883, on every interface', () => {
    const c = parseConfig('', '/c.conf');
    expect(c.listeners).toEqual([{ port: 1883, protocol: 'mqtt', source: 'default listener' }]);
    expect(c.listenersConfigured).toBe(false);
  });

  it('TLS needs both certfile and keyfile; require_certificate needs a cafile', () => {
    const e1 = errorOf(() => parseConfig('listener 8883\ncertfile a.crt\n', '/c.conf'));
    expect(e1.message).toBe(
      '/c.conf:1: certfile and keyfile must be given together for TLS (got only certfile)',
    );
    const e2 = errorOf(() =>
      parseConfig('listener 8883\ncertfile a\nkeyfile b\nrequire_certificate true\n', '/c.conf'),
    );
    expect(e2.message).toMatch(/^\/c\.conf:1: require_certificate true needs a cafile/);
    const e3 = errorOf(() => parseConfig('cafile ca.crt\n', '/c.conf'));
    expect(e3.message).toMatch(/^\/c\.conf:1 \(default listener\): cafile, require_certificate/);
  });

  it('a unix socket listener is warned about and left out', () => {
    const c = parseConfig('listener 1883\nlistener 0 /run/mqtt.sock\n', '/c.conf');
    expect(c.listeners).toHaveLength(1);
    expect(c.warnings).toEqual(['/c.conf:2: unix socket listeners are not supported yet; listener ignored']);
  });
});

describe('security settings', () => {
  it('are global by default, even after a listener line', () => {
    const c = parseConfig(
      'listener 1883\nallow_anonymous false\npassword_file pw\nacl_file acl\n',
      '/etc/m/m.conf',
    );
    expect(c).toMatchObject({ allowAnonymous: false, passwordFile: '/etc/m/pw', aclFile: '/etc/m/acl' });
    expect(c.listeners[0]).not.toHaveProperty('passwordFile');
  });

  it('with per_listener_settings true they belong to the listener they follow', () => {
    const c = parseConfig(
      'per_listener_settings true\nlistener 1883 127.0.0.1\nallow_anonymous true\nlistener 8883\nallow_anonymous false\npassword_file /p\nacl_file /a\n',
      '/c.conf',
    );
    expect(c.perListenerSettings).toBe(true);
    expect(c.allowAnonymous).toBeUndefined();
    expect(c.listeners[0]).toMatchObject({ port: 1883, allowAnonymous: true });
    expect(c.listeners[1]).toMatchObject({
      port: 8883,
      allowAnonymous: false,
      passwordFile: '/p',
      aclFile: '/a',
    });
  });

  it('per_listener_settings after a security setting is an error, as in mosquitto 2', () => {
    const e = errorOf(() => parseConfig('allow_anonymous true\nper_listener_settings true\n', '/c.conf'));
    expect(e.code).toBe(ErrorCodes.CONFIG_INVALID_VALUE);
    expect(e.message).toMatch(
      /^\/c\.conf:2: per_listener_settings must be set before any other security settings/,
    );
  });

  it('paths are relative to the folder of the file they are in', () => {
    const c = parseConfig('password_file ../secrets/pw file\n', '/etc/mosquitto/conf.d/a.conf');
    expect(c.passwordFile).toBe('/etc/mosquitto/secrets/pw file');
  });
});

describe('broker limits and the rest', () => {
  it('map onto BrokerOptions', () => {
    const c = parseConfig(
      [
        'max_keepalive 120',
        'max_packet_size 1024',
        'message_size_limit 512',
        'max_inflight_messages 10',
        'max_queued_messages 100',
        'queue_qos0_messages true',
        'retain_available false',
        'persistent_client_expiration 2d',
        'sys_interval 0',
        'allow_zero_length_clientid false',
        'persistence true',
        'persistence_location data/',
        'autosave_interval 60',
        'log_dest stdout',
        'log_dest file logs/m.log',
        'log_type error',
        'log_type all',
        'mdns false',
      ].join('\n'),
      '/opt/m.conf',
    );
    expect(c.warnings).toEqual([]);
    expect(c.broker).toEqual({
      maxKeepalive: 120,
      maxPacketSize: 1024,
      messageSizeLimit: 512,
      maxInflightMessages: 10,
      maxQueuedMessages: 100,
      queueQos0Messages: true,
      retainAvailable: false,
      persistentClientExpiration: 2 * 86400,
      sysInterval: 0,
      allowZeroLengthClientId: false,
    });
    expect(c).toMatchObject({
      persistence: true,
      persistenceLocation: '/opt/data',
      autosaveInterval: 60,
      mdns: false,
    });
    expect(c.log).toEqual({
      dest: [{ type: 'stdout' }, { type: 'file', path: '/opt/logs/m.log' }],
      types: ['error', 'all'],
    });
  });

  it("parses mosquitto's durations: h d w m y", () => {
    expect(['1h', '2d', '3w', '1m', '1y', '0h'].map(parseDuration)).toEqual([
      3600,
      172800,
      3 * 604800,
      30 * 86400,
      365 * 86400,
      0,
    ]);
    expect(parseDuration('10')).toBeUndefined();
    expect(parseDuration('1s')).toBeUndefined();
  });

  it('booleans accept true/false and 1/0, as mosquitto does', () => {
    expect(parseConfig('retain_available 0\nqueue_qos0_messages 1\n', '/c').broker).toEqual({
      retainAvailable: false,
      queueQos0Messages: true,
    });
  });
});

describe('bad values are errors naming file:line and the accepted form', () => {
  const cases: [string, string][] = [
    ['max_keepalive abc', "my.conf:3: max_keepalive must be an integer 0..65535, got 'abc'"],
    ['max_keepalive 70000', "my.conf:3: max_keepalive must be an integer 0..65535, got '70000'"],
    [
      'listener 99999',
      "my.conf:3: listener must be a port 0..65535, optionally followed by a bind address, got '99999'",
    ],
    [
      'listener',
      "my.conf:3: listener must be a port 0..65535, optionally followed by a bind address, got ''",
    ],
    ['protocol mqtts', "my.conf:3: protocol must be mqtt or websockets, got 'mqtts'"],
    [
      'allow_anonymous yes',
      "my.conf:3: allow_anonymous must be true, false or lan (anonymous from this machine and the local network only), got 'yes'",
    ],
    [
      'allow_anonymous true # open',
      "my.conf:3: allow_anonymous must be true, false or lan (anonymous from this machine and the local network only), got 'true # open'",
    ],
    [
      'persistent_client_expiration 2 days',
      "my.conf:3: persistent_client_expiration must be a duration: a number followed by h, d, w, m or y (e.g. 2d, 1w), got '2 days'",
    ],
    [
      'max_packet_size 10',
      "my.conf:3: max_packet_size must be an integer 20..268435455 (bytes), or 0 for no limit, got '10'",
    ],
    [
      'log_dest printer',
      "my.conf:3: log_dest must be stdout, stderr, syslog, topic, dlt, none or file <path>, got 'printer'",
    ],
    [
      'log_type verbose',
      expect.stringMatching(/^my\.conf:3: log_type must be one of debug, error/) as unknown as string,
    ],
    ['password_file', "my.conf:3: password_file must be a file path, got ''"],
  ];
  for (const [line, message] of cases) {
    it(`'${line}'`, () => {
      const e = errorOf(() => parseConfig(`# settings\n\n${line}\n`, 'my.conf'));
      expect(isMothershipError(e, ErrorCodes.CONFIG_INVALID_VALUE)).toBe(true);
      expect(e.message.replace(`${process.cwd()}/`, '')).toEqual(message);
      expect(e.message).not.toMatch(/\n\s+at /);
    });
  }
});

describe('unknown and not-yet-supported directives', () => {
  it('are warnings naming file:line, and the rest of the file still loads', () => {
    const c = parseConfig(
      'listener 1883\nbridge_cafile x\nconnection cloud\nplugin_opt_x 1\nfrobnicate 3\n  # indented comment\n\tallow_anonymous true\n',
      '/c.conf',
    );
    expect(c.allowAnonymous).toBe(true);
    expect(c.warnings).toEqual([
      "/c.conf:2: 'bridge_cafile' is a mosquitto directive Mothership does not support yet; ignored",
      "/c.conf:3: 'connection' is a mosquitto directive Mothership does not support yet; ignored",
      "/c.conf:4: 'plugin_opt_x' is a mosquitto directive Mothership does not support yet; ignored",
      "/c.conf:5: unknown directive 'frobnicate'; ignored",
    ]);
  });
});

describe('include_dir', () => {
  it('reads the folder’s *.conf files in sorted order, each with its own file:line', async () => {
    const conf = join(dir, 'main.conf');
    const d = join(dir, 'conf.d');
    await mkdir(d);
    await writeFile(join(d, 'b.conf'), 'listener 1884\nallow_anonymous false\n');
    await writeFile(join(d, 'a.conf'), 'listener 1883\nallow_anonymous true\nmystery 1\n');
    await writeFile(join(d, 'README'), 'not a config\n');
    await writeFile(conf, 'persistence false\ninclude_dir conf.d\n');
    const c = await loadConfig(conf);
    expect(c.files).toEqual([conf, join(d, 'a.conf'), join(d, 'b.conf')]);
    expect(c.listeners.map((l) => l.port)).toEqual([1883, 1884]);
    expect(c.allowAnonymous).toBe(false);
    expect(c.warnings).toEqual([`${join(d, 'a.conf')}:3: unknown directive 'mystery'; ignored`]);
  });

  it('a missing include_dir or config file is CONFIG_FILE_UNREADABLE naming it', async () => {
    const e = errorOf(() => parseConfig('\ninclude_dir /nonexistent/conf.d\n', '/c.conf'));
    expect(isMothershipError(e, ErrorCodes.CONFIG_FILE_UNREADABLE)).toBe(true);
    expect(e.message).toBe('/c.conf:2: cannot read include_dir /nonexistent/conf.d');
    const e2 = (await loadConfig(join(dir, 'nope.conf')).catch((err: unknown) => err)) as Error;
    expect(isMothershipError(e2, ErrorCodes.CONFIG_FILE_UNREADABLE)).toBe(true);
    expect(e2.message).toMatch(/nope\.conf: no such file$/);
  });

  it('an include_dir that includes itself stops at a bounded depth with an error', async () => {
    const d = join(dir, 'loop');
    await mkdir(d);
    await writeFile(join(d, 'self.conf'), 'include_dir .\n');
    const e = errorOf(() => parseConfig(`include_dir ${d}\n`, '/c.conf'));
    expect(isMothershipError(e, ErrorCodes.CONFIG_INVALID_VALUE)).toBe(true);
    expect(e.message).toMatch(/self\.conf:1: include_dir must be nested at most 8 deep/);
  });
});

describe('durability settings (ours, in the same syntax)', () => {
  it('persistence_durability, persistence_commit_delay, persistence_inflight_write_delay and persistence_queue_window', () => {
    const c = parseConfig(
      'persistence_durability grouped\npersistence_commit_delay 5\npersistence_inflight_write_delay 100\npersistence_queue_window 64\n',
      '/c.conf',
    );
    expect(c.warnings).toEqual([]);
    expect(c.durability).toBe('grouped');
    expect(c.commitDelayMs).toBe(5);
    expect(c.broker.inflightWriteDelayMs).toBe(100);
    expect(c.broker.queueWindow).toBe(64);
  });

  it('a bad value names file:line and the accepted form', () => {
    expect(errorOf(() => parseConfig('\npersistence_queue_window 0\n', '/c.conf')).message).toBe(
      "/c.conf:2: persistence_queue_window must be an integer 1..1000000 (messages), got '0'",
    );
    expect(errorOf(() => parseConfig('persistence_inflight_write_delay soon\n', '/c.conf')).message).toBe(
      "/c.conf:1: persistence_inflight_write_delay must be an integer 0..60000 (milliseconds), got 'soon'",
    );
  });
});
