import { ArgumentsHost, Catch, ExceptionFilter, HttpStatus, Inject } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { LockBusyError, LockerUnavailableError, LockWaitTimeoutError } from '../errors';

type Handled = LockBusyError | LockWaitTimeoutError | LockerUnavailableError;

/** The HTTP answer to each expected lock outcome: none is a bug of the app, so none is a 500. */
const STATUS: [error: abstract new (...args: never[]) => Handled, status: HttpStatus, error: string, retryAfter?: string][] = [
  // Someone else is doing this now and the method chose not to wait (onBusy: 'throw'): the request conflicts with that.
  [LockBusyError, HttpStatus.CONFLICT, 'Conflict'],
  // The lock stayed busy for the whole waitTime: try again shortly.
  [LockWaitTimeoutError, HttpStatus.SERVICE_UNAVAILABLE, 'Service Unavailable', '1'],
  // The lock server is away (a failover, a restart): it takes seconds to come back.
  [LockerUnavailableError, HttpStatus.SERVICE_UNAVAILABLE, 'Service Unavailable', '5'],
];

/**
 * Opt-in exception filter for HTTP apps: `LockBusyError` → 409 Conflict, `LockWaitTimeoutError` → 503 Service
 * Unavailable with `Retry-After: 1`, `LockerUnavailableError` → 503 with `Retry-After: 5`; the body is `{ statusCode, error, code, message }`. Works on any HTTP
 * platform (it answers through Nest's `HttpAdapterHost`). Register it with `{ provide: APP_FILTER, useClass:
 * LockerExceptionFilter }` or `app.useGlobalFilters(new LockerExceptionFilter(app.get(HttpAdapterHost)))`.
 * Other contexts (microservices, websockets) get the error rethrown, as if no filter were there.
 */
@Catch(LockBusyError, LockWaitTimeoutError, LockerUnavailableError)
export class LockerExceptionFilter implements ExceptionFilter<Handled> {
  constructor(@Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: Handled, host: ArgumentsHost): void {
    const row = STATUS.find(([type]) => exception instanceof type);
    if (host.getType() !== 'http' || !row) throw exception;
    const [, statusCode, error, retryAfter] = row;
    const { httpAdapter } = this.adapterHost;
    const response: unknown = host.switchToHttp().getResponse();
    if (retryAfter) httpAdapter.setHeader(response, 'Retry-After', retryAfter);
    httpAdapter.reply(response, { statusCode, error, code: exception.code, message: exception.message }, statusCode);
  }
}
