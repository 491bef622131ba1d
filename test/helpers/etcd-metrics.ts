import { get } from 'node:http';

/** One scrape of a private etcd's /metrics (served on its client port). */
export interface EtcdMetrics {
  /** The sum of a metric over the series whose labels contain every one of `labels` (e.g. `grpc_method="Txn"`). */
  sum(name: string, ...labels: string[]): number;
}

export function etcdMetrics(port: number): Promise<EtcdMetrics> {
  return new Promise((resolve, reject) => {
    get(`http://127.0.0.1:${port}/metrics`, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => {
        const series = body.split('\n').flatMap((line) => {
          const match = /^([a-z_]+)(\{[^}]*\})?\s+(\S+)$/.exec(line);
          return match ? [{ name: match[1], labels: match[2] ?? '', value: Number(match[3]) }] : [];
        });
        resolve({
          sum: (name, ...labels) =>
            series
              .filter((one) => one.name === name && labels.every((label) => one.labels.includes(label)))
              .reduce((total, one) => total + one.value, 0),
        });
      });
    }).once('error', reject);
  });
}
