/**
 * The top-level keys of TLS: the certificate every TLS listener serves and
 * the RTSPS and RTMPS listeners with their own certificates.
 *
 * @module
 */
import * as v from "valibot";
import { Address, setting } from "./_scalars.ts";

/** Certificates and the RTSPS and RTMPS listeners. */
export const TLS_SETTINGS = {
  /**
   * PEM file of the certificate (with its chain) every TLS listener serves:
   * RTSPS and RTMPS start when it and {@link TLS_SETTINGS.tlsKey} are set.
   */
  tlsCert: setting(
    v.string(),
    "",
    "PEM certificate file for RTSPS and RTMPS (they start when it is set)",
  ),
  /** PEM file of the private key of {@link TLS_SETTINGS.tlsCert}. */
  tlsKey: setting(v.string(), "", "PEM private key file of tlsCert"),
  /** Address of the RTSPS listener (RTSP in TLS, HTTPS tunnelling too). */
  rtspsAddress: setting(
    Address,
    ":8322",
    "RTSPS listen address, on when a certificate is set",
  ),
  /** A certificate for RTSPS alone; {@link TLS_SETTINGS.tlsCert} when empty. */
  rtspsCert: setting(v.string(), "", "PEM certificate file for RTSPS alone"),
  /** The key of {@link TLS_SETTINGS.rtspsCert}. */
  rtspsKey: setting(v.string(), "", "PEM private key file for RTSPS alone"),
  /** Address of the RTMPS listener (RTMP in TLS). */
  rtmpsAddress: setting(
    Address,
    ":1936",
    "RTMPS listen address, on when a certificate is set",
  ),
  /** A certificate for RTMPS alone; {@link TLS_SETTINGS.tlsCert} when empty. */
  rtmpsCert: setting(v.string(), "", "PEM certificate file for RTMPS alone"),
  /** The key of {@link TLS_SETTINGS.rtmpsCert}. */
  rtmpsKey: setting(v.string(), "", "PEM private key file for RTMPS alone"),
} as const;
