import { readFileSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import { Redis } from 'ioredis';
import type { Backend, BenchServers } from '../contenders/contender';
import { hostPort } from '../contenders/contender';
import { now, percentile } from '../report/stats';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (Linux's USER_HZ, 100 on every common build). */
const CLOCK_TICKS_PER_SECOND = 100;

/** What the servers themselves say: commands served, clients connected, CPU used, and the bare round trip. */
export class ServerInspector {
  private readonly redis: Redis;
  private readonly etcd: Etcd3;
  private redisPid?: number;

  constructor(private readonly servers: BenchServers) {
    this.redis = new Redis(hostPort(servers.redis));
    this.etcd = new Etcd3({ hosts: `http://${servers.etcd}` });
  }

  /** Commands redis has processed so far, not counting this call. */
  private async redisCommands(): Promise<number> {
    return Number(/total_commands_processed:(\d+)/.exec(await this.redis.info('stats'))![1]) - 1;
  }

  /** For the report: `redis-server <version>, etcd <version>`. */
  async versions(): Promise<string> {
    const redis = /redis_version:(\S+)/.exec(await this.redis.info('server'))![1];
    const { etcdserver } = (await (await fetch(`http://${this.servers.etcd}/version`)).json()) as { etcdserver: string };
    return `redis-server ${redis}, etcd ${etcdserver}`;
  }

  /** Client connections open on redis, not counting this inspector. */
  async redisClients(): Promise<number> {
    return Number(/connected_clients:(\d+)/.exec(await this.redis.info('clients'))![1]) - 1;
  }

  /** gRPC messages etcd has received (unary requests and stream messages such as keep-alives). */
  private async etcdMessages(): Promise<number> {
    const text = await (await fetch(`http://${this.servers.etcd}/metrics`)).text();
    let total = 0;
    for (const match of text.matchAll(/^grpc_server_msg_received_total\{[^}]*\} (\S+)$/gm)) total += Number(match[1]);
    return total;
  }

  /**
   * CPU the server process has used so far, µs: redis-server's user + system time from /proc/<pid>/stat (its
   * pid from INFO; it runs on this machine), etcd's `process_cpu_seconds_total` (the same, read by etcd itself).
   * Measured on the process, not from `commandstats`, so that reading and writing the sockets counts.
   */
  async serverCpuUs(backend: Backend): Promise<number> {
    if (backend === 'etcd') {
      const text = await (await fetch(`http://${this.servers.etcd}/metrics`)).text();
      return Number(/^process_cpu_seconds_total (\S+)$/m.exec(text)?.[1] ?? NaN) * 1e6;
    }
    this.redisPid ??= Number(/process_id:(\d+)/.exec(await this.redis.info('server'))![1]);
    const fields = readFileSync(`/proc/${this.redisPid}/stat`, 'utf8').split(') ')[1].split(' ');
    // after the command's name: utime and stime are the 12th and 13th fields
    return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND) * 1e6;
  }

  /** What the backend counts as work: redis commands (including those inside scripts), etcd gRPC messages. */
  serverWork(backend: Backend): Promise<number> {
    return backend === 'redis' ? this.redisCommands() : this.etcdMessages();
  }

  /** p50 of back-to-back PINGs / etcd gets for `ms`. */
  async roundTrip(backend: Backend, ms: number): Promise<number> {
    const samples: number[] = [];
    const stopAt = now() + ms;
    while (now() < stopAt) {
      const started = now();
      if (backend === 'redis') await this.redis.ping();
      else await this.etcd.get('nest-locker-bench-rtt');
      samples.push(now() - started);
    }
    return percentile(samples, 50);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    this.etcd.close();
  }
}
