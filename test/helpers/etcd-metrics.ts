import { get } from 'node:http';

/**
 * The sum of a Prometheus metric on a private etcd's client port (it serves /metrics), over the series
 * whose labels contain every one of `labels` (e.g. `grpc_method="Txn"`).
 */
export function etcdMetric(port: number, name: string, ...labels: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    get(`http://127.0.0.1:${port}/metrics`, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => {
        let sum = 0;
        for (const line of body.split('\n')) {
          const match = /^([a-z_]+)(\{[^}]*\})?\s+(\S+)$/.exec(line);
          if (match?.[1] === name && labels.every((label) => (match[2] ?? '').includes(label))) sum += Number(match[3]);
        }
        resolve(sum);
      });
    }).once('error', reject);
  });
}
