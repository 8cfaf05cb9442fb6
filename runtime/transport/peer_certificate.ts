/**
 * node:tls's view of a client certificate → the one handlers see.
 * @module
 */
import type { PeerCertificate as NodePeerCertificate } from "node:tls";
import type { PeerCertificate } from "../core/peer.ts";

/** The handler-facing certificate, or null when the peer sent none. */
export function toPeerCertificate(cert: NodePeerCertificate | undefined): PeerCertificate | null {
  if (!cert || !cert.subject) return null;
  return {
    subject: formatName(cert.subject),
    commonName: String(cert.subject.CN ?? ""),
    subjectAltNames: cert.subjectaltname ? cert.subjectaltname.split(", ") : [],
    issuer: formatName(cert.issuer),
    fingerprint256: cert.fingerprint256 ?? "",
    validFrom: cert.valid_from ?? "",
    validTo: cert.valid_to ?? "",
  };
}

function formatName(name: object | undefined): string {
  if (!name) return "";
  return Object.entries(name).map(([k, v]) => `${k}=${v}`).join(", ");
}
