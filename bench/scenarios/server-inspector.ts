import { get } from 'node:http';
import { Etcd3 } from 'etcd3';
import { Redis } from 'ioredis';
import type { BenchServers } from '../contenders/contender';
import { hostPort } from '../contenders/contender';
import { now, percentile } from '../report/stats';

/** What the servers themselves say: commands served, clients connected, and the bare round trip. */
export class ServerInspector {
  private readonly redis: Redis;
  private readonly etcd: Etcd3;

  constructor(private readonly servers: BenchServers) {
    this.redis = new Redis(hostPort(servers.redis));
    this.etcd = new Etcd3({ hosts: `http://${servers.etcd}` });
  }

  /** Commands redis has processed so far, not counting this call. */
  async redisCommands(): Promise<number> {
    return Number(/total_commands_processed:(\d+)/.exec(await this.redis.info('stats'))![1]) - 1;
  }

  async redisVersion(): Promise<string> {
    return /redis_version:(\S+)/.exec(await this.redis.info('server'))![1];
  }

  /** Client connections open on redis, not counting this inspector. */
  async redisClients(): Promise<number> {
    return Number(/connected_clients:(\d+)/.exec(await this.redis.info('clients'))![1]) - 1;
  }

  /** gRPC messages etcd has received (unary requests and stream messages such as keep-alives). */
  async etcdMessages(method?: string): Promise<number> {
    const text = await new Promise<string>((resolve, reject) => {
      get(`http://${this.servers.etcd}/metrics`, (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve(body));
      }).on('error', reject);
    });
    let total = 0;
    for (const match of text.matchAll(/^grpc_server_msg_received_total\{([^}]*)\} (\S+)$/gm)) {
      if (!method || match[1].includes(`grpc_method="${method}"`)) total += Number(match[2]);
    }
    return total;
  }

  /** p50 of back-to-back PINGs / etcd gets for `ms`. */
  async roundTrip(backend: 'redis' | 'etcd', ms: number): Promise<number> {
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
