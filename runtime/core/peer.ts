/**
 * Who is calling, as the transport saw it on the connection. A leaf of the
 * core: transports fill it in, handlers read it as `ctx.peerCertificate`.
 * @module
 */

/** The client's TLS certificate, when the call came over mTLS. */
export interface PeerCertificate {
  /** Subject as `CN=..., O=...`. */
  subject: string;
  /** Subject common name, or "". */
  commonName: string;
  /** Subject alternative names, e.g. `DNS:client.local`. */
  subjectAltNames: string[];
  issuer: string;
  /** SHA-256 fingerprint, `AA:BB:...`. */
  fingerprint256: string;
  validFrom: string;
  validTo: string;
}
