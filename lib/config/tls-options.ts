import { readFileSync } from 'node:fs';
import { describe } from '../utils/describe';
import { SectionReader } from './section-reader';

const TLS_FIELDS = ['ca_file', 'cert_file', 'key_file', 'server_name'] as const;

/**
 * TLS of a connection section, read at bootstrap: `tls = true` (the system CAs verify the server) or a
 * `[<section>.tls]` table whose files are read here, so a missing file fails before anything connects.
 */
export interface TlsSettings {
  /** The connection section, and whether `tls` was a table (errors then name `[<section>.tls] <field>`). */
  section: string;
  table: boolean;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** The name the server's certificate must carry, when it differs from the address. */
  serverName?: string;
}

/** `tls` of a connection section: undefined when absent or `false`. */
export function readTls(reader: SectionReader): TlsSettings | undefined {
  const value = reader.value('tls');
  if (value === undefined || value === false) return undefined;
  if (value === true) return { section: reader.section, table: false };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    reader.fail('tls', `expected true, false or a table of ${TLS_FIELDS.join(', ')}, got ${describe(value)}`);
  }
  const table = new SectionReader(`${reader.section}.tls`, value as Record<string, unknown>, TLS_FIELDS);
  if (table.has('cert_file') !== table.has('key_file')) {
    const missing = table.has('cert_file') ? 'key_file' : 'cert_file';
    table.fail(missing, 'expected cert_file and key_file together: mutual TLS needs the certificate and its key');
  }
  return {
    section: reader.section,
    table: true,
    ca: readPem(table, 'ca_file'),
    cert: readPem(table, 'cert_file'),
    key: readPem(table, 'key_file'),
    serverName: table.string('server_name'),
  };
}

function readPem(table: SectionReader, field: string): Buffer | undefined {
  const path = table.string(field);
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (cause) {
    return table.fail(field, `cannot read "${path}": ${(cause as Error).message}`);
  }
}

/** Node's `tls.connect` options for these settings. */
export function nodeTlsOptions(tls: TlsSettings): { ca?: Buffer; cert?: Buffer; key?: Buffer; servername?: string } {
  return { ca: tls.ca, cert: tls.cert, key: tls.key, servername: tls.serverName };
}

/**
 * Where a failed TLS handshake points in the config, or undefined when `reason` is no TLS failure: a
 * certificate not issued for the address is `server_name`'s business, one the server refused is the
 * client certificate's, any other verification failure the CA's.
 */
export function tlsFailureField(
  tls: TlsSettings | undefined,
  reason: string,
): { section: string; field: string; hint: string } | undefined {
  if (/wrong version number|packet length too long|unknown protocol/i.test(reason)) {
    const section = tls?.section;
    return section ? { section, field: 'tls', hint: 'the server does not seem to speak TLS on this port' } : undefined;
  }
  if (!tls || !/certificate|self[- ]signed|CERT_|altname|handshake|alert|SSL|TLS|ECONNRESET/i.test(reason)) return undefined;
  const field = /altname|hostname|IP: .* is not in the cert/i.test(reason)
    ? 'server_name'
    : // a server that wants a client certificate may just close the connection (TLS 1.3)
      /certificate required|handshake failure|alert number 116|bad certificate|unknown ca|ECONNRESET/i.test(reason)
      ? 'cert_file'
      : 'ca_file';
  const table = `[${tls.section}.tls]`;
  const hint = {
    server_name: `the server's certificate does not name this address; expected ${table} server_name to be a name it carries`,
    cert_file: `the server closed the TLS connection, refusing our client certificate or wanting one; expected ${table} cert_file and key_file it trusts`,
    ca_file: `the server's certificate is not signed by a CA we trust; expected ${table} ca_file with the CA that signed it`,
  }[field];
  return tls.table ? { section: `${tls.section}.tls`, field, hint } : { section: tls.section, field: 'tls', hint };
}
