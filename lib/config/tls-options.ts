import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
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
  const [ca, cert, key] = [readPem(table, 'ca_file'), readPem(table, 'cert_file'), readPem(table, 'key_file')];
  if (ca) parseCertificate(table, 'ca_file', ca);
  if (cert && key) {
    parseCertificate(table, 'cert_file', cert);
    try {
      createSecureContext({ cert, key });
    } catch (cause) {
      table.fail('key_file', `expected the private key of cert_file's certificate: ${(cause as Error).message}`);
    }
  }
  return { section: reader.section, table: true, ca, cert, key, serverName: table.string('server_name') };
}

/** A file that holds no PEM certificate fails here, not as a handshake that blames the server. */
function parseCertificate(table: SectionReader, field: string, pem: Buffer): void {
  try {
    new X509Certificate(pem);
  } catch (cause) {
    table.fail(field, `expected a PEM certificate ("-----BEGIN CERTIFICATE-----"): ${(cause as Error).message}`);
  }
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
