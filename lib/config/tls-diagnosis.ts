import { X509Certificate } from 'node:crypto';
import { answersPlain, PlainProtocol, ProbeAddress, speaksTls } from '../utils/protocol-probe';
import type { TlsSettings } from './tls-options';

/** The field a failed connection points to, and what to do about it. */
export interface TlsFailure {
  section: string;
  field: string;
  hint: string;
}

/** Where the server to diagnose listens, the plain protocol it would speak, and how long a probe may take. */
export interface TlsProbe {
  address?: ProbeAddress;
  plain: PlainProtocol;
  ms: number;
}

/** The handshake broke off, or never came: a TLS client may be talking to a plain server. */
const HANDSHAKE_BROKE =
  /wrong version number|packet length too long|unknown protocol|disconnected before secure TLS|ECONNRESET|socket hang up|EPIPE|no answer within|ETIMEDOUT|TLS handshake/i;
/** The server closed on us or never answered: a plain client may be talking to a TLS server. */
const CLOSED_OR_SILENT =
  /ECONNRESET|socket hang up|EPIPE|Connection is closed|Failed to connect|Protocol error|no answer within|ETIMEDOUT/i;

/**
 * Where a connection that failed at bootstrap points in the config when TLS is to blame, or undefined when
 * it is not: a certificate's verdict (expired, not signed by a CA we trust, not naming the address, ours
 * refused), else, when the handshake broke off (or a plain connection was closed), one probe of the port
 * tells whether it speaks TLS or plain text, so plain and TLS mixed up are named as such.
 */
export async function explainTlsFailure(
  section: string,
  tls: TlsSettings | undefined,
  reason: string,
  probe: TlsProbe,
): Promise<TlsFailure | undefined> {
  if (tls) {
    const verdict = certificateVerdict(tls, reason);
    if (verdict) return verdict;
    if (!HANDSHAKE_BROKE.test(reason)) return undefined;
    if (probe.address && (await answersPlain(probe.address, probe.plain, probe.ms))) {
      const hint = `the server answers plain ${probe.plain.name} on this port, not TLS; expected no tls here, or the address of its TLS port`;
      return { section, field: 'tls', hint };
    }
    return handshakeGuess(tls, reason);
  }
  if (!probe.address || !CLOSED_OR_SILENT.test(reason) || !(await speaksTls(probe.address, probe.ms))) return undefined;
  const hint =
    `the server speaks TLS on this port; expected tls = true (a certificate from a public CA) or a [${section}.tls] ` +
    'table (ca_file for a private CA; cert_file and key_file when it asks for a client certificate)';
  return { section, field: 'tls', hint };
}

/** What the handshake's own error says about the certificates, when it says anything. */
function certificateVerdict(tls: TlsSettings, reason: string): TlsFailure | undefined {
  const table = `[${tls.section}.tls]`;
  const inTable = (field: 'ca_file' | 'cert_file' | 'server_name', hint: string): TlsFailure =>
    tls.table ? { section: `${tls.section}.tls`, field, hint } : { section: tls.section, field: 'tls', hint };
  // the server's own certificate: nothing on this side can make it valid
  if (/certificate has expired|CERT_HAS_EXPIRED/i.test(reason)) {
    return { section: tls.section, field: 'tls', hint: "the server's certificate has expired; renew it on the server" };
  }
  if (/certificate is not yet valid|CERT_NOT_YET_VALID/i.test(reason)) {
    const hint = "the server's certificate is not valid yet; check this machine's clock, and the dates of the server's certificate";
    return { section: tls.section, field: 'tls', hint };
  }
  if (/altname|hostname|IP: .* is not in the cert/i.test(reason)) {
    return inTable(
      'server_name',
      `the server's certificate does not name this address; expected ${table} server_name to be a name it carries`,
    );
  }
  if (/self[- ]signed|unable to (verify|get)|CERT_UNTRUSTED|certificate signature failure/i.test(reason)) {
    return inTable(
      'ca_file',
      `the server's certificate is not signed by a CA we trust; expected ${table} ca_file with the CA that signed it`,
    );
  }
  // the server refused ours: said so (an alert), or just closed (TLS 1.3 checks it after the handshake)
  const refused = /alert|certificate required|bad certificate|unknown ca|handshake failure/i.test(reason);
  const expired = clientCertificateOutOfDate(tls);
  if (expired && (refused || /ECONNRESET|socket hang up|EPIPE/i.test(reason))) {
    return inTable('cert_file', `our client certificate ${expired}; expected ${table} cert_file (and key_file) renewed`);
  }
  if (/alert certificate expired|alert number 45/i.test(reason)) {
    const hint = `the server says our client certificate has expired (check the clocks); expected ${table} cert_file (and key_file) renewed`;
    return inTable('cert_file', hint);
  }
  if (refused) {
    return inTable(
      'cert_file',
      `the server refused our client certificate or wants one; expected ${table} cert_file and key_file signed by a CA it trusts`,
    );
  }
  return undefined;
}

/** No certificate's verdict, and no plain answer either. */
function handshakeGuess(tls: TlsSettings, reason: string): TlsFailure | undefined {
  if (/wrong version number|packet length too long|unknown protocol/i.test(reason)) {
    return { section: tls.section, field: 'tls', hint: 'the server does not seem to speak TLS on this port' };
  }
  // a server that wants a client certificate may just close the connection (TLS 1.3)
  if (/ECONNRESET|socket hang up|EPIPE/i.test(reason)) {
    const hint = `the server closed the TLS connection, refusing our client certificate or wanting one; expected [${tls.section}.tls] cert_file and key_file it trusts`;
    return tls.table ? { section: `${tls.section}.tls`, field: 'cert_file', hint } : { section: tls.section, field: 'tls', hint };
  }
  return undefined;
}

/** "expired on <date>" or "is not valid before <date>" for our client certificate, if it is out of date now. */
function clientCertificateOutOfDate(tls: TlsSettings): string | undefined {
  if (!tls.cert) return undefined;
  const certificate = new X509Certificate(tls.cert);
  const now = Date.now();
  if (now > Date.parse(certificate.validTo)) return `expired on ${certificate.validTo}`;
  if (now < Date.parse(certificate.validFrom)) return `is not valid before ${certificate.validFrom}`;
  return undefined;
}
