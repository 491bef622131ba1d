import { Logger } from '@nestjs/common';
import { Observable, Observer, Operator, Subscriber, Subscription } from 'rxjs';

const logger = new Logger('NestLocker');

type Handler<A extends unknown[]> = ((...args: A) => void) | undefined;

/** Runs `handler`, logging what it throws instead of letting rxjs rethrow it later from a timer. */
function guard<A extends unknown[]>(handler: Handler<A>, what: string): Handler<A> {
  if (!handler) return undefined;
  return (...args) => {
    try {
      handler(...args);
    } catch (error) {
      logger.error(
        `A subscriber of LockerService.events threw in ${what}; the lock is unaffected: ${String(error)}`,
        (error as Error)?.stack,
      );
    }
  };
}

/**
 * `LockerService.events`. rxjs reports what a subscriber throws later, from a timer, as an uncaught
 * exception: the process would die of a listener's bug, from inside a renewal or a release. Here it is
 * logged instead, through any operators piped in between (they lift into this class); an `error`
 * handler of the subscriber's own still gets the errors of those operators, which are logged otherwise.
 */
export class LockEventStream<T> extends Observable<T> {
  constructor(source?: Observable<T>) {
    super();
    this.source = source;
  }

  override lift<R>(operator?: Operator<T, R>): Observable<R> {
    const lifted = new LockEventStream<R>();
    lifted.source = this;
    lifted.operator = operator;
    return lifted;
  }

  override subscribe(
    observerOrNext?: Partial<Observer<T>> | ((value: T) => void) | null,
    error?: ((error: unknown) => void) | null,
    complete?: (() => void) | null,
  ): Subscription {
    // rxjs' own subscribers (operators piped after this, firstValueFrom) handle errors themselves
    if (observerOrNext instanceof Subscriber) return super.subscribe(observerOrNext);
    const observer: Partial<Observer<T>> =
      typeof observerOrNext === 'function' || !observerOrNext
        ? { next: observerOrNext ?? undefined, error: error ?? undefined, complete: complete ?? undefined }
        : observerOrNext;
    return super.subscribe({
      next: guard(observer.next?.bind(observer), 'next'),
      error:
        guard(observer.error?.bind(observer), 'error') ?? ((caught: unknown) => logger.error(`LockerService.events: ${String(caught)}`)),
      complete: guard(observer.complete?.bind(observer), 'complete'),
    });
  }
}
