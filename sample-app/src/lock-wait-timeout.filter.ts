import { ArgumentsHost, Catch, ExceptionFilter, HttpStatus } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { LockWaitTimeoutError } from 'nest-locker';

/** A lock that stayed busy for the whole `waitTime` is an expected outcome: 503 with Retry-After, not a 500. */
@Catch(LockWaitTimeoutError)
export class LockWaitTimeoutFilter implements ExceptionFilter<LockWaitTimeoutError> {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: LockWaitTimeoutError, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const response: unknown = host.switchToHttp().getResponse();
    httpAdapter.setHeader(response, 'Retry-After', '1');
    const body = { statusCode: HttpStatus.SERVICE_UNAVAILABLE, error: error.code, message: error.message };
    httpAdapter.reply(response, body, HttpStatus.SERVICE_UNAVAILABLE);
  }
}
