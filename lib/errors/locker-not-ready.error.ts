import { LockerError } from './locker.error';

/** A decorated method was called before `LockerModule` was initialised (or after the app closed). */
export class LockerNotReadyError extends LockerError {
  constructor(where: string) {
    super(
      `${where} was called, but no LockerModule is initialised in this process. Import LockerModule.forRoot() in the app ` +
        'module and call the method after app.init() / app.listen(); it never runs without its lock.',
      {},
      'LOCKER_NOT_READY',
    );
  }
}
