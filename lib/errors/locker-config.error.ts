import { LockerError } from './locker.error';

/** Bad configuration or options: names the section (or option object) and field, and what was expected. */
export class LockerConfigError extends LockerError {
  /** The offending field, e.g. `driver_instance_id` or `ttl`. */
  declare readonly field?: string;

  constructor(fields: { section?: string; field?: string; key?: string; message: string; cause?: unknown }) {
    const where = [fields.section && `[${fields.section}]`, fields.field].filter(Boolean).join(' ');
    super(where ? `${where}: ${fields.message}` : fields.message, fields, 'LOCKER_CONFIG');
    if (fields.field !== undefined) this.field = fields.field;
  }
}
