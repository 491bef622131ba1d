import type { Contender } from './contender';
import { etcd3Lock } from './etcd3-lock';
import { floorEtcd } from './floor-etcd';
import { floorRedis } from './floor-redis';
import { nestLockerEtcd, nestLockerRedis, nestLockerRedisFair } from './nest-locker';
import { redisSemaphore } from './redis-semaphore';
import { redlock } from './redlock';

/** Every contender, each backend's floor first: ratios are taken against it. */
export const CONTENDERS: Contender[] = [
  floorRedis,
  nestLockerRedis,
  nestLockerRedisFair,
  redlock,
  redisSemaphore,
  floorEtcd,
  nestLockerEtcd,
  etcd3Lock,
];

export function contenderById(id: string): Contender {
  const found = CONTENDERS.find((contender) => contender.id === id);
  if (!found) throw new Error(`unknown contender "${id}"; expected one of ${CONTENDERS.map((c) => c.id).join(', ')}`);
  return found;
}
