/**
 * A recorded history of lock use from several OS processes, and the checker that judges it. Times are
 * milliseconds of the system-wide monotonic clock (`process.hrtime`), which every process on the machine
 * reads alike; the checker still allows for the clock error the run measured.
 */

/** One holding: a node's acquisition of a key, named by its fencing token. */
interface Holding {
  node: string;
  key: string;
  token: string;
  /** What was held (default a mutex): a permit of at most `limit` holders, a read or a write lock. */
  lock?: 'lock' | 'permit' | 'read' | 'write' | 'leader';
  limit?: number;
}

export type HistoryEvent =
  /** acquire() returned the lock. */
  | (Holding & { kind: 'acquired'; at: number })
  /** The holder read `lock.held === true` and acted on it (it went on to write). */
  | (Holding & { kind: 'held'; at: number })
  /** The holder called release(). */
  | (Holding & { kind: 'released'; at: number })
  /** The holder's `lock.signal` aborted with a LockLostError. */
  | (Holding & { kind: 'lost'; at: number; reason: string })
  /** A write reached the protected resource (timed by the resource) and was accepted or, if fenced, refused. */
  | (Holding & { kind: 'write'; at: number; fenced: boolean; accepted: boolean })
  /** The node could not run code (SIGSTOP, a blocked event loop, SIGKILL: to = Infinity), as the harness made it. */
  | { kind: 'frozen'; node: string; from: number; to: number }
  /**
   * An operator took the lock from its holder on the server (deleted its key, revoked its lease). No lock can keep
   * the holder from believing a little longer; it must be told within `boundMs` (a renewal period and its answer).
   */
  | { kind: 'tampered'; key: string; at: number; boundMs: number };

/** The events of one kind, e.g. `EventOf<'acquired'>`. */
export type EventOf<K extends HistoryEvent['kind']> = Extract<HistoryEvent, { kind: K }>;

export interface Violation {
  rule: 'overlap' | 'fencing' | 'token-order' | 'loss-not-signalled' | 'tamper-not-signalled';
  key: string;
  detail: string;
}

export interface HistoryVerdict {
  acquisitions: number;
  violations: Violation[];
  /** Writes an unfenced resource accepted from a holder older than one it had already seen: why fencing exists. */
  staleUnfencedWrites: number;
  /** Writes the fenced resource refused (stale holders it kept out). */
  refusedFencedWrites: number;
}

interface Section extends Holding {
  acquiredAt: number;
  /** The last moment it knew it held the lock: its last `held === true` reading (or the acquisition). */
  believedUntil: number;
  lostAt?: number;
  releasedAt?: number;
}

/**
 * The rules:
 * 1. overlap: at no moment did the holdings that believed they held a key break its kind's rule (by more than
 *    the clock error): a mutex (or a leadership) one holder, a permit at most its `limit`, a read/write lock readers or one writer;
 * 2. fencing: the fenced resource accepted only non-decreasing tokens, and refused every write older than one it accepted;
 * 3. token-order: a key's tokens grow with the order of acquisition (shared holdings granted together may
 *    report theirs in either order: theirs grow past every holding that ended before);
 * 4. loss-not-signalled: a holding that ended other than by its own release had its loss signalled before the
 *    next holder acquired, unless its node was frozen (or dead) at that moment and so could not be told;
 * 5. tamper-not-signalled: a holding whose lock an operator took away on the server was told (or released it)
 *    within the tamper's bound. From the tamper on, its belief no longer counts for rules 1 and 4: this rule
 *    replaces them, since no lock can stop a holder from believing until it next asks the server.
 */
export function checkHistory(events: HistoryEvent[], clockErrorMs: number): HistoryVerdict {
  const sections = sectionsOf(events);
  const frozen = events.filter((event) => event.kind === 'frozen');
  const violations: Violation[] = [];
  const tampered = tamperedSections(sections, events, clockErrorMs, violations);
  /** Until when a holding's belief counts: never past a tamper that took its lock away. */
  const believedUntil = (section: Section) => Math.min(section.believedUntil, tampered.get(section)?.at ?? Infinity);
  const byKey = groupBy([...sections.values()], (section) => section.key);
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.acquiredAt - b.acquiredAt);
    for (let j = 0; j < list.length; j++) {
      const next = list[j];
      // believed beside `next` by more than the clock error
      const beside = list.slice(0, j).filter((earlier) => believedUntil(earlier) - next.acquiredAt > clockErrorMs);
      if (!allowed(beside, next)) {
        const overlap = Math.min(...beside.map(believedUntil), believedUntil(next)) - next.acquiredAt;
        violations.push({
          rule: 'overlap',
          key,
          detail: `${beside.map(describe).join(', ')} and ${describe(next)} all held it (${kindOf(next)}) for ${overlap.toFixed(1)} ms`,
        });
      }
      // tokens grow in grant order: above every holding that ended before, and (one holder at a time) the previous
      const before = list.slice(0, j).filter((earlier) => (earlier.releasedAt ?? earlier.lostAt ?? Infinity) < next.acquiredAt);
      if (j > 0 && (exclusive(next) || exclusive(list[j - 1]))) before.push(list[j - 1]);
      const outranked = before.find((earlier) => BigInt(next.token) <= BigInt(earlier.token));
      if (outranked) {
        violations.push({
          rule: 'token-order',
          key,
          detail: `${describe(next)} acquired after ${describe(outranked)} with a token not above it`,
        });
      }
      // holdings that had not ended (released, or told of their loss) when `next` acquired, though they could be told
      const notEnded = list.slice(0, j).filter((earlier) => {
        const ended = earlier.releasedAt ?? earlier.lostAt;
        const couldBeTold = !frozen.some(
          (f) => f.node === earlier.node && f.from <= next.acquiredAt + clockErrorMs && next.acquiredAt <= f.to,
        );
        return couldBeTold && !tampered.has(earlier) && (ended === undefined || ended > next.acquiredAt + clockErrorMs);
      });
      if (!allowed(notEnded, next)) {
        const told = notEnded.map((earlier) => {
          const ended = earlier.releasedAt ?? earlier.lostAt;
          return `${describe(earlier)} was ${ended === undefined ? 'never told' : `told ${(ended - next.acquiredAt).toFixed(1)} ms after`}`;
        });
        violations.push({ rule: 'loss-not-signalled', key, detail: `${told.join(', ')} ${describe(next)} acquired` });
      }
    }
  }
  const writes = events.filter((event) => event.kind === 'write');
  const fencing = checkFencedWrites(writes.filter((write) => write.fenced));
  violations.push(...fencing.violations);
  return {
    acquisitions: sections.size,
    violations,
    staleUnfencedWrites: countStaleWrites(writes.filter((write) => !write.fenced && write.accepted)),
    refusedFencedWrites: fencing.refused,
  };
}

/** The holdings an operator's tamper struck while held; those not told within its bound are violations. */
function tamperedSections(
  sections: Map<string, Section>,
  events: HistoryEvent[],
  clockErrorMs: number,
  violations: Violation[],
): Map<Section, EventOf<'tampered'>> {
  const struck = new Map<Section, EventOf<'tampered'>>();
  const tampers = events.filter((event) => event.kind === 'tampered');
  for (const section of sections.values()) {
    const ended = section.lostAt ?? section.releasedAt;
    const tamper = tampers.find((t) => t.key === section.key && section.acquiredAt <= t.at && t.at <= (ended ?? section.believedUntil));
    if (!tamper) continue;
    struck.set(section, tamper);
    const toldAfter = (ended ?? Infinity) - tamper.at;
    if (toldAfter > tamper.boundMs + clockErrorMs) {
      violations.push({
        rule: 'tamper-not-signalled',
        key: section.key,
        detail: `${describe(section)} was ${ended === undefined ? 'never told' : `told ${toldAfter.toFixed(1)} ms after`} its lock was taken on the server (bound ${tamper.boundMs} ms)`,
      });
    }
  }
  return struck;
}

type WriteEvent = EventOf<'write'>;

function checkFencedWrites(writes: WriteEvent[]): { violations: Violation[]; refused: number } {
  const violations: Violation[] = [];
  let refused = 0;
  for (const [key, list] of groupBy(writes, (write) => write.key)) {
    let highest = -1n;
    for (const write of [...list].sort((a, b) => a.at - b.at)) {
      const token = BigInt(write.token);
      if (!write.accepted) {
        refused++;
        continue;
      }
      if (token < highest) violations.push({ rule: 'fencing', key, detail: `accepted token ${token} after token ${highest}` });
      if (token > highest) highest = token;
    }
  }
  return { violations, refused };
}

function countStaleWrites(accepted: WriteEvent[]): number {
  let stale = 0;
  for (const list of groupBy(accepted, (write) => write.key).values()) {
    let highest = -1n;
    for (const write of [...list].sort((a, b) => a.at - b.at)) {
      const token = BigInt(write.token);
      if (token < highest) stale++;
      else highest = token;
    }
  }
  return stale;
}

function sectionsOf(events: HistoryEvent[]): Map<string, Section> {
  const sections = new Map<string, Section>();
  const id = (holding: Holding) => `${holding.key}\u0000${holding.token}\u0000${holding.node}`;
  for (const event of [...events].sort((a, b) => timeOf(a) - timeOf(b))) {
    if (event.kind === 'frozen' || event.kind === 'write' || event.kind === 'tampered') continue;
    if (event.kind === 'acquired') {
      const { node, key, token, lock, limit } = event;
      sections.set(id(event), { node, key, token, lock, limit, acquiredAt: event.at, believedUntil: event.at });
      continue;
    }
    const section = sections.get(id(event));
    if (!section) throw new Error(`history: ${event.kind} by ${event.node} for ${event.key}#${event.token} before its acquisition`);
    if (event.kind === 'held') section.believedUntil = Math.max(section.believedUntil, event.at);
    else if (event.kind === 'lost') section.lostAt ??= event.at;
    else section.releasedAt ??= event.at;
  }
  return sections;
}

const timeOf = (event: HistoryEvent): number => (event.kind === 'frozen' ? event.from : event.at);

const kindOf = (holding: Holding) => holding.lock ?? 'lock';

const exclusive = (holding: Holding) => ['lock', 'write', 'leader'].includes(kindOf(holding));

/**
 * Whether `next` may hold beside the holdings `present`, by its kind's rule: a mutex or a writer beside no
 * one, a reader beside readers only, a permit beside fewer than its limit.
 */
function allowed(present: Holding[], next: Holding): boolean {
  if (present.length === 0) return true;
  const kind = kindOf(next);
  if (kind === 'read') return present.every((holding) => kindOf(holding) === 'read');
  if (kind === 'permit') return present.length < (next.limit ?? 1);
  return false;
}

const describe = (section: Section): string => `${section.node}#${section.token}`;

function groupBy<T>(items: T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(keyOf(item));
    if (group) group.push(item);
    else groups.set(keyOf(item), [item]);
  }
  return groups;
}
