import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../helpers/wait';
import { freePort } from './free-port';
import { ServerProcess } from './server-process';
import { etcdHealthy, TestServer, wrap } from './servers';

export interface EtcdCluster {
  /** kill() / start() of a member brings it back into the cluster with its data. */
  members: TestServer[];
  /** Client addresses, `127.0.0.1:port`, in member order. */
  endpoints: string[];
  /** The index in `members` of the current leader (waits while an election runs). */
  leaderIndex(): Promise<number>;
  stop(): Promise<void>;
}

/** Short raft timings, so an election after a killed leader takes about a second, not several. */
const HEARTBEAT_MS = 50;
const ELECTION_TIMEOUT_MS = 500;

/** A private etcd cluster of `size` members on free loopback ports, each with its data in a temporary directory. */
export async function startEtcdCluster(size = 3): Promise<EtcdCluster> {
  const specs: { name: string; port: number; peer: string; dataDir: string }[] = [];
  for (let i = 0; i < size; i++) {
    const [port, peerPort] = [await freePort(), await freePort()];
    specs.push({ name: `nl${i}`, port, peer: `http://127.0.0.1:${peerPort}`, dataDir: mkdtempSync(join(tmpdir(), 'nest-locker-etcd-')) });
  }
  const initialCluster = specs.map((spec) => `${spec.name}=${spec.peer}`).join(',');
  const processes = specs.map(
    (spec) =>
      new ServerProcess(
        `etcd member ${spec.name}`,
        process.env.ETCD_BIN ?? 'etcd',
        [
          ['--name', spec.name],
          ['--data-dir', spec.dataDir],
          ['--listen-client-urls', `http://127.0.0.1:${spec.port}`],
          ['--advertise-client-urls', `http://127.0.0.1:${spec.port}`],
          ['--listen-peer-urls', spec.peer],
          ['--initial-advertise-peer-urls', spec.peer],
          ['--initial-cluster', initialCluster],
          ['--initial-cluster-state', 'new'],
          ['--initial-cluster-token', `nest-locker-${specs[0].port}`],
          ['--heartbeat-interval', String(HEARTBEAT_MS)],
          ['--election-timeout', String(ELECTION_TIMEOUT_MS)],
          ['--log-level', 'error'],
        ].flat(),
        spec.port,
        // healthy = this member sees a leader: a restarted member is back in the cluster
        () => etcdHealthy(spec.port),
      ),
  );
  const stop = async () => {
    await Promise.all(processes.map((member) => member.stop()));
    for (const spec of specs) rmSync(spec.dataDir, { recursive: true, force: true });
  };
  // Together: no member is healthy before a quorum is up.
  await Promise.all(processes.map((member) => member.start())).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return {
    members: processes.map(wrap),
    endpoints: specs.map((spec) => `127.0.0.1:${spec.port}`),
    leaderIndex: () => leaderIndex(specs.map((spec) => spec.port)),
    stop,
  };
}

/** Polls the members until a live one names a leader that is itself up (a dead leader is named until the election). */
async function leaderIndex(ports: number[]): Promise<number> {
  const leaderNow = async (): Promise<number> => {
    const statuses = await Promise.all(ports.map((port) => memberStatus(port)));
    for (const status of statuses) {
      const index = statuses.findIndex((member) => member !== undefined && member.memberId === status?.leader);
      if (index >= 0) return index;
    }
    return -1;
  };
  const index = await eventually(leaderNow, (found) => found >= 0, 20_000);
  if (index < 0) throw new Error(`no etcd leader among members on ports ${ports.join(', ')} within 20 s`);
  return index;
}

/** The member's own id and the leader it sees ('0' for none), from the v3 JSON gateway; undefined when down. */
function memberStatus(port: number): Promise<{ memberId: string; leader: string } | undefined> {
  return new Promise((resolve) => {
    const call = request({ host: '127.0.0.1', port, method: 'POST', path: '/v3/maintenance/status', timeout: 1000 }, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => {
        try {
          const status = JSON.parse(body) as { header?: { member_id?: string }; leader?: string };
          resolve(status.header?.member_id ? { memberId: status.header.member_id, leader: status.leader ?? '0' } : undefined);
        } catch {
          resolve(undefined);
        }
      });
    });
    call.once('timeout', () => call.destroy());
    call.once('error', () => resolve(undefined));
    call.end('{}');
  });
}
