import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import { Etcd3 } from 'etcd3';
import { Redis } from 'ioredis';
import { loadLockerConfig, LockerConfig, LockerModule } from 'nest-locker';
import { configErrorOf, errorOutcome, outcomeTable } from './outcome-table';

/** What the LockerConfigError must say: its section, its field (undefined when none) and its message. */
interface Expected {
  section?: string;
  field?: string;
  message: RegExp;
}

type ConfigRow = [label: string, config: unknown, expected: Expected];

const locker = (driver: string, extra: object = {}) => ({ locker: { driver, driver_instance_id: driver, ...extra } });
const redis = (fields: object) => ({ redis: { addr: '127.0.0.1:1', ...fields }, ...locker('redis') });
const etcd = (fields: object) => ({ etcd: { endpoints: ['127.0.0.1:1'], ...fields }, ...locker('etcd') });

/** Configs refused at forRoot/forRootAsync, before any connection is tried (port 1 would refuse it anyway). */
const CONFIG_ROWS: ConfigRow[] = [
  ['config null', null, { message: /expected an object of sections, got null/ }],
  ['config an array', [], { message: /expected an object of sections, got an array/ }],
  ['config a string', 'app.toml', { message: /expected an object of sections, got "app.toml"/ }],
  ['no locker section', { redis: { addr: 'h:1' } }, { section: 'locker', message: /no locker section in the config/ }],
  [
    'driver missing',
    { locker: { driver_instance_id: 'redis' }, redis: { addr: 'h:1' } },
    { section: 'locker', field: 'driver', message: /expected a non-empty string, got undefined/ },
  ],
  [
    'driver a number',
    { ...redis({}), locker: { driver: 5, driver_instance_id: 'redis' } },
    { section: 'locker', field: 'driver', message: /got 5/ },
  ],
  [
    'driver "etcd3" (unknown)',
    { ...etcd({}), locker: { driver: 'etcd3', driver_instance_id: 'etcd' } },
    { section: 'locker', field: 'driver', message: /unknown driver "etcd3" \(did you mean "etcd"\?\); expected one of .*redis.*etcd/ },
  ],
  [
    'driver_instance_id missing',
    { locker: { driver: 'redis' }, redis: { addr: 'h:1' } },
    { section: 'locker', field: 'driver_instance_id', message: /expected a non-empty string, got undefined/ },
  ],
  [
    'driver_instance_id a number',
    { locker: { driver: 'redis', driver_instance_id: 1 }, redis: { addr: 'h:1' } },
    { section: 'locker', field: 'driver_instance_id', message: /expected a non-empty string, got 1/ },
  ],
  [
    'driver_instance_id pointing nowhere',
    { locker: { driver: 'etcd', driver_instance_id: 'etc' }, etcd: { endpoints: ['h:1'] } },
    { section: 'locker', field: 'driver_instance_id', message: /no section \[etc\] in the config \(did you mean "etcd"\?\)/ },
  ],
  [
    'driver_instance_id pointing at a locker section',
    {
      locker: { driver: 'redis', driver_instance_id: 'jobs' },
      jobs: { driver: 'redis', driver_instance_id: 'redis' },
      redis: { addr: 'h:1' },
    },
    { section: 'locker', field: 'driver_instance_id', message: /\[jobs\] is a locker section; expected a connection section/ },
  ],
  [
    'connection section a string',
    { redis: '127.0.0.1:6379', ...locker('redis') },
    { section: 'redis', message: /expected a table of settings, got "127.0.0.1:6379"/ },
  ],
  [
    'unknown locker field',
    { ...redis({}), ...locker('redis', { drvier: 'x' }) },
    { section: 'locker', field: 'drvier', message: /unknown field/ },
  ],
  [
    'unknown redis field',
    redis({ adress: 'h:1' }),
    { section: 'redis', field: 'adress', message: /unknown field; expected one of addr, cluster, sentinels, master_name, auth/ },
  ],
  ['unknown etcd field', etcd({ endpoint: ['h:1'] }), { section: 'etcd', field: 'endpoint', message: /did you mean "endpoints"/ }],
  [
    'a field in [memory]',
    { memory: { addr: 'h:1' }, ...locker('memory') },
    { section: 'memory', field: 'addr', message: /unknown field; \[memory\] takes no fields/ },
  ],
  [
    'key_prefix a number',
    { ...redis({}), ...locker('redis', { key_prefix: 5 }) },
    { section: 'locker', field: 'key_prefix', message: /got 5/ },
  ],
  ['key_prefix ""', { ...etcd({}), ...locker('etcd', { key_prefix: '' }) }, { section: 'locker', field: 'key_prefix', message: /got ""/ }],
  [
    'key_prefix a list',
    { ...etcd({}), ...locker('etcd', { key_prefix: ['a'] }) },
    { section: 'locker', field: 'key_prefix', message: /an array/ },
  ],
];

const ADDR_ROWS: [label: string, addr: unknown, message: RegExp][] = [
  ['""', '', /expected a non-empty string, got ""/],
  ['missing', undefined, /expected exactly one of addr \("host:port"\), cluster .* or sentinels .*; none was given/],
  ['6379 (number)', 6379, /expected a non-empty string, got 6379/],
  ['["h:1"] (list)', ['h:1'], /got an array/],
  ['"localhost" (no port)', 'localhost', /expected "host:port" with a port from 1 to 65535, got "localhost"/],
  ['"h:" (empty port)', 'h:', /expected "host:port"/],
  ['":6379" (no host)', ':6379', /expected "host:port"/],
  ['"h:0"', 'h:0', /with a port from 1 to 65535, got "h:0"/],
  ['"h:70000"', 'h:70000', /with a port from 1 to 65535, got "h:70000"/],
  ['"h:-1"', 'h:-1', /expected "host:port"/],
  ['"h :6379" (space in host)', 'h :6379', /expected "host:port"/],
  ['"user:pw@h:6379" (credentials)', 'user:pw@h:6379', /expected "host:port"/],
];

const ENDPOINTS_ROWS: [label: string, endpoints: unknown, message: RegExp][] = [
  ['[] (empty)', [], /expected a non-empty list of "host:port" strings, got an array/],
  ['"h:2379" (not a list)', 'h:2379', /expected a non-empty list of "host:port" strings, got "h:2379"/],
  ['[2379]', [2379], /expected a non-empty list/],
  ['[""]', [''], /expected a non-empty list/],
  ['["h"] (no port)', ['h'], /expected "host:port" with a port from 1 to 65535, got "h"/],
  ['["h:0"]', ['h:0'], /got "h:0"/],
  ['["h:1", "h:70000"]', ['h:1', 'h:70000'], /got "h:70000"/],
];

const TIMEOUT_ROWS: [label: string, value: unknown][] = [
  ['-1', -1],
  ['0', 0],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['1.5', 1.5],
  ['"5000" (string)', '5000'],
  ['2^31 (past the timer ceiling)', 2 ** 31],
];

for (const [label, addr, message] of ADDR_ROWS) {
  CONFIG_ROWS.push([`[redis] addr ${label}`, { redis: { addr }, ...locker('redis') }, { section: 'redis', field: 'addr', message }]);
}
for (const [label, endpoints, message] of ENDPOINTS_ROWS) {
  CONFIG_ROWS.push([
    `[etcd] endpoints ${label}`,
    { etcd: { endpoints }, ...locker('etcd') },
    { section: 'etcd', field: 'endpoints', message },
  ]);
}
for (const [label, value] of TIMEOUT_ROWS) {
  for (const [name, config] of [
    ['redis', redis({ connect_timeout: value })],
    ['etcd', etcd({ connect_timeout: value })],
  ] as const) {
    CONFIG_ROWS.push([
      `[${name}] connect_timeout ${label}`,
      config,
      { section: name, field: 'connect_timeout', message: /expected a whole number >= 1 \(at most 2147483647\)/ },
    ]);
  }
}
CONFIG_ROWS.push(
  ['[redis] db 1.5', redis({ db: 1.5 }), { section: 'redis', field: 'db', message: /expected a whole number >= 0/ }],
  ['[redis] db "0"', redis({ db: '0' }), { section: 'redis', field: 'db', message: /got "0"/ }],
  ['[redis] auth 5', redis({ auth: 5 }), { section: 'redis', field: 'auth', message: /expected a non-empty string, got 5/ }],
  ['[etcd] password false', etcd({ password: false }), { section: 'etcd', field: 'password', message: /got false/ }],
);
for (const [label, value] of TIMEOUT_ROWS) {
  CONFIG_ROWS.push([
    `[redis] command_timeout ${label}`,
    redis({ command_timeout: value }),
    { section: 'redis', field: 'command_timeout', message: /expected a whole number >= 1 \(at most 2147483647\)/ },
  ]);
}

/** Clients for the `client` rows: none ever connects (lazyConnect; etcd3 dials on the first call). */
const neverConnected = new Redis({ lazyConnect: true });
const closed = new Redis({ lazyConnect: true });
closed.disconnect();
const etcdClient = new Etcd3({ hosts: 'http://127.0.0.1:1' });
after(() => etcdClient.close());

const missingFile = join(tmpdir(), 'nest-locker-no-such-dir', 'ca.pem');
const sentinels = (fields: object) => ({ redis: { sentinels: ['127.0.0.1:1'], master_name: 'm', ...fields }, ...locker('redis') });

/** The production fields (DESIGN.md §4): tls, sentinel_auth / sentinel_username, client. */
CONFIG_ROWS.push(
  [
    '[redis] tls 1',
    redis({ tls: 1 }),
    { section: 'redis', field: 'tls', message: /expected true, false or a table of ca_file, cert_file, key_file, server_name, got 1/ },
  ],
  ['[redis] tls "yes"', redis({ tls: 'yes' }), { section: 'redis', field: 'tls', message: /got "yes"/ }],
  ['[etcd] tls a list', etcd({ tls: ['ca.pem'] }), { section: 'etcd', field: 'tls', message: /got an array/ }],
  [
    '[redis.tls] ca_flie (typo)',
    redis({ tls: { ca_flie: 'ca.pem' } }),
    { section: 'redis.tls', field: 'ca_flie', message: /unknown field \(did you mean "ca_file"\?\)/ },
  ],
  [
    '[redis.tls] ca_file 5',
    redis({ tls: { ca_file: 5 } }),
    { section: 'redis.tls', field: 'ca_file', message: /expected a non-empty string, got 5/ },
  ],
  [
    '[redis.tls] ca_file missing',
    redis({ tls: { ca_file: missingFile } }),
    { section: 'redis.tls', field: 'ca_file', message: new RegExp(`cannot read "${missingFile}": ENOENT`) },
  ],
  [
    '[etcd.tls] cert_file a directory',
    etcd({ tls: { cert_file: tmpdir(), key_file: tmpdir() } }),
    { section: 'etcd.tls', field: 'cert_file', message: /cannot read ".*": EISDIR/ },
  ],
  [
    '[redis.tls] cert_file without key_file',
    redis({ tls: { cert_file: 'client.pem' } }),
    { section: 'redis.tls', field: 'key_file', message: /expected cert_file and key_file together/ },
  ],
  ['[etcd.tls] server_name 5', etcd({ tls: { server_name: 5 } }), { section: 'etcd.tls', field: 'server_name', message: /got 5/ }],
  [
    '[etcd] tls with an http:// endpoint',
    etcd({ endpoints: ['http://h:1'], tls: true }),
    { section: 'etcd', field: 'endpoints', message: /expected https:\/\/ endpoints with tls, got "http:\/\/h:1"/ },
  ],
  [
    '[etcd] endpoints http:// and https://',
    etcd({ endpoints: ['http://h:1', 'https://h:2'] }),
    { section: 'etcd', field: 'endpoints', message: /expected all http:\/\/ or all https:\/\/ endpoints/ },
  ],
  [
    '[etcd] endpoints grpc://h:1',
    etcd({ endpoints: ['grpc://h:1'] }),
    { section: 'etcd', field: 'endpoints', message: /expected http:\/\/ or https:\/\/ endpoints, got "grpc:\/\/h:1"/ },
  ],
  [
    '[redis] sentinel_auth 5',
    sentinels({ sentinel_auth: 5 }),
    { section: 'redis', field: 'sentinel_auth', message: /expected a non-empty string, got 5/ },
  ],
  [
    '[redis] sentinel_auth with addr',
    redis({ sentinel_auth: 'pw' }),
    { section: 'redis', field: 'sentinel_auth', message: /expected sentinel_auth only together with sentinels/ },
  ],
  [
    '[redis] sentinel_usernme (typo)',
    sentinels({ sentinel_usernme: 'u' }),
    { section: 'redis', field: 'sentinel_usernme', message: /did you mean "sentinel_username"/ },
  ],
  [
    '[redis] client a plain object',
    { redis: { client: { host: 'h' } }, ...locker('redis') },
    {
      section: 'redis',
      field: 'client',
      message: /expected a connected ioredis Redis or Cluster client for the "redis" driver, got an object/,
    },
  ],
  [
    '[redis] client a URL string',
    { redis: { client: 'redis://h:1' }, ...locker('redis') },
    { section: 'redis', field: 'client', message: /got "redis:\/\/h:1"/ },
  ],
  [
    '[redis] client an etcd3 client',
    { redis: { client: etcdClient }, ...locker('redis') },
    { section: 'redis', field: 'client', message: /got an etcd3 client/ },
  ],
  [
    '[etcd] client an ioredis client',
    { etcd: { client: neverConnected }, ...locker('etcd') },
    { section: 'etcd', field: 'client', message: /expected an etcd3 Etcd3 client for the "etcd" driver, got an ioredis client/ },
  ],
  [
    '[redis] client never connected (lazyConnect)',
    { redis: { client: neverConnected }, ...locker('redis') },
    { section: 'redis', field: 'client', message: /status is "wait": it was created with lazyConnect and never connected/ },
  ],
  [
    '[redis] client closed',
    { redis: { client: closed }, ...locker('redis') },
    { section: 'redis', field: 'client', message: /status is "end": it was closed/ },
  ],
  [
    '[redis] client beside addr',
    { redis: { addr: 'h:1', client: neverConnected }, ...locker('redis') },
    { section: 'redis', field: 'addr', message: /not allowed beside client/ },
  ],
  [
    '[etcd] client beside endpoints',
    { etcd: { client: etcdClient, endpoints: ['h:1'] }, ...locker('etcd') },
    { section: 'etcd', field: 'endpoints', message: /not allowed beside client/ },
  ],
);

/**
 * Key prefixes that nest on one etcd or memory connection would let keys of two sections name one lock
 * (etcd: key 'x' of 'app/' ranges over 'app/x/', where key 'y' of 'app/x/' lives).
 */
const NESTED_PREFIX_ROWS: ConfigRow[] = [
  [
    "etcd key_prefix 'app/' and 'app/x/'",
    {
      ...etcd({}),
      ...locker('etcd', { key_prefix: 'app/' }),
      nested: { driver: 'etcd', driver_instance_id: 'etcd', key_prefix: 'app/x/' },
    },
    {
      section: 'nested',
      field: 'key_prefix',
      message: /"app\/x\/" starts with "app\/", the key_prefix of \[locker\] on the same connection \[etcd\]/,
    },
  ],
  [
    "etcd key_prefix 'app/x/' declared before 'app/'",
    {
      etcd: { endpoints: ['h:1'] },
      nested: { driver: 'etcd', driver_instance_id: 'etcd', key_prefix: 'app/x/' },
      ...locker('etcd', { key_prefix: 'app/' }),
    },
    { section: 'nested', field: 'key_prefix', message: /starts with "app\/"/ },
  ],
  [
    "etcd key_prefix 'app' and 'app2' (no separator)",
    { ...etcd({}), ...locker('etcd', { key_prefix: 'app' }), other: { driver: 'etcd', driver_instance_id: 'etcd', key_prefix: 'app2' } },
    { section: 'other', field: 'key_prefix', message: /"app2" starts with "app"/ },
  ],
  [
    "etcd default prefix and 'nest-locker/jobs/'",
    { ...etcd({}), ...locker('etcd'), jobs: { driver: 'etcd', driver_instance_id: 'etcd', key_prefix: 'nest-locker/jobs/' } },
    { section: 'jobs', field: 'key_prefix', message: /starts with "nest-locker\/"/ },
  ],
  [
    "memory key_prefix 'app/' and 'app/x/'",
    {
      memory: {},
      ...locker('memory', { key_prefix: 'app/' }),
      nested: { driver: 'memory', driver_instance_id: 'memory', key_prefix: 'app/x/' },
    },
    {
      section: 'nested',
      field: 'key_prefix',
      message: /same connection \[memory\], so keys of the two sections could name the same memory lock/,
    },
  ],
];

const dir = mkdtempSync(join(tmpdir(), 'nest-locker-bad-input-'));
const toml = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const seedLocker = '\n[locker]\ndriver = "redis"\ndriver_instance_id = "redis"\n';

/** app.toml files that parse, each with one bad value as TOML types it (TOML has nan and inf). */
const TOML_ROWS: [label: string, text: string, expected: Expected][] = [
  [
    'connect_timeout = nan',
    `[redis]\naddr = "h:1"\nconnect_timeout = nan\n${seedLocker}`,
    { section: 'redis', field: 'connect_timeout', message: /got NaN/ },
  ],
  [
    'connect_timeout = -inf',
    `[redis]\naddr = "h:1"\nconnect_timeout = -inf\n${seedLocker}`,
    { section: 'redis', field: 'connect_timeout', message: /got -Infinity/ },
  ],
  [
    'connect_timeout = "5s"',
    `[redis]\naddr = "h:1"\nconnect_timeout = "5s"\n${seedLocker}`,
    { section: 'redis', field: 'connect_timeout', message: /got "5s"/ },
  ],
  ['addr = 6379', `[redis]\naddr = 6379\n${seedLocker}`, { section: 'redis', field: 'addr', message: /got 6379/ }],
  ['addr = "h:70000"', `[redis]\naddr = "h:70000"\n${seedLocker}`, { section: 'redis', field: 'addr', message: /got "h:70000"/ }],
  ['db = 1.5', `[redis]\naddr = "h:1"\ndb = 1.5\n${seedLocker}`, { section: 'redis', field: 'db', message: /got 1.5/ }],
  [
    'endpoints = []',
    '[etcd]\nendpoints = []\n[locker]\ndriver = "etcd"\ndriver_instance_id = "etcd"\n',
    { section: 'etcd', field: 'endpoints', message: /non-empty list/ },
  ],
  [
    'driver = "rediss"',
    '[redis]\naddr = "h:1"\n[locker]\ndriver = "rediss"\ndriver_instance_id = "redis"\n',
    { section: 'locker', field: 'driver', message: /did you mean "redis"/ },
  ],
  [
    'tls = true and a [redis.tls] table',
    `[redis]\naddr = "h:1"\ntls = true\n[redis.tls]\nca_file = "ca.pem"\n${seedLocker}`,
    { section: 'redis', field: 'tls', message: /not valid TOML .*redefine/s },
  ],
  [
    '[redis.tls] ca_file that cannot be read',
    `[redis]\naddr = "h:1"\n[redis.tls]\nca_file = "${missingFile}"\n${seedLocker}`,
    { section: 'redis.tls', field: 'ca_file', message: /cannot read ".*ca.pem"/ },
  ],
  [
    '[locker] as an array of tables',
    '[redis]\naddr = "h:1"\n[[locker]]\ndriver = "redis"\n',
    { section: 'locker', message: /no locker section/ },
  ],
];

const record = outcomeTable('Configs (LockerModule.forRoot / forRootAsync / loadLockerConfig)');

function assertNames(error: { section?: string; field?: string; message: string }, expected: Expected): void {
  assert.equal(error.section, expected.section, 'section');
  assert.equal(error.field, expected.field, 'field');
  assert.match(error.message, expected.message);
}

/** Bootstraps through forRootAsync, so the same validation is seen on the async path. */
async function bootstrapAsync(config: unknown): Promise<void> {
  const moduleRef = await Test.createTestingModule({
    imports: [LockerModule.forRootAsync({ useFactory: () => config as LockerConfig })],
  }).compile();
  await moduleRef.close();
}

describe('bad configs', () => {
  for (const [label, config, expected] of [...CONFIG_ROWS, ...NESTED_PREFIX_ROWS]) {
    it(`refuses ${label} at forRoot and at forRootAsync, naming the section and field`, async () => {
      const error = await configErrorOf(() => LockerModule.forRoot(config as LockerConfig));
      assertNames(error, expected);
      assertNames(await configErrorOf(() => bootstrapAsync(config)), expected);
      record(label, '-', errorOutcome(error));
    });
  }

  for (const [label, text, expected] of TOML_ROWS) {
    it(`refuses app.toml with ${label}`, async () => {
      const error = await configErrorOf(() => LockerModule.forRoot(loadLockerConfig(toml(`${label.replace(/\W+/g, '_')}.toml`, text))));
      assertNames(error, expected);
      record(`app.toml: ${label}`, '-', errorOutcome(error));
    });
  }

  for (const [label, path] of [
    ['0 (a file descriptor: stdin)', 0],
    ['undefined', undefined],
    ['""', ''],
  ] as const) {
    it(`refuses loadLockerConfig(${label}) without reading anything`, async () => {
      const error = await configErrorOf(() => loadLockerConfig(path as unknown as string));
      assert.equal(error.field, 'path');
      assert.match(error.message, /loadLockerConfig\(\)\] path: expected the path of a TOML file/);
      record(`loadLockerConfig(${label})`, '-', errorOutcome(error));
    });
  }

  it('reads an empty string as not set in every optional string field, as Go seed configs write them', () => {
    const empty = { auth: '', username: '', master_name: '', sentinel_auth: '', sentinel_username: '' };
    LockerModule.forRoot({ redis: { addr: 'h:1', ...empty }, ...locker('redis') });
    LockerModule.forRoot({ redis: { sentinels: ['h:1'], ...empty, master_name: 'm' }, ...locker('redis') });
    LockerModule.forRoot({ etcd: { endpoints: ['h:1'], username: '', password: '' }, ...locker('etcd') });
    LockerModule.forRoot({ redis: { addr: 'h:1', tls: { ca_file: '', server_name: '' } }, ...locker('redis') });
  });
});
