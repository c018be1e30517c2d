/**
 * The challenges and credentials of WWW-Authenticate and Authorization
 * (RFC 2326 §12.44, §12.5): Basic (RFC 7617) and Digest (RFC 2617).
 *
 * @module
 */

/** A Basic challenge (RFC 7617 §2). */
export interface BasicChallenge {
  /** The scheme, as the union's tag. */
  scheme: "Basic";
  /** Shown to the user; empty if the field had none. */
  realm: string;
}

/** A Digest challenge (RFC 2617 §3.2.1; RFC 7616 §3.3). */
export interface DigestChallenge {
  /** The scheme, as the union's tag. */
  scheme: "Digest";
  /** Part of HA1: the credentials' realm must match. */
  realm: string;
  /** The server's one-time value. */
  nonce: string;
  /** To be echoed unchanged. */
  opaque?: string;
  /** As written (`MD5`, `MD5-sess`, `SHA-256` …); absent means MD5. */
  algorithm?: string;
  /** The qop options offered (`auth`, `auth-int`). */
  qop?: string[];
  /** The nonce expired but the credentials were right: retry without asking the user. */
  stale?: boolean;
}

/** What a WWW-Authenticate field may offer. */
export type AuthChallenge = BasicChallenge | DigestChallenge;

/** Basic credentials, decoded (RFC 7617 §2: user-id ":" password, UTF-8). */
export interface BasicCredentials {
  /** The scheme, as the union's tag. */
  scheme: "Basic";
  /** Before the first colon. */
  username: string;
  /** After the first colon; may hold colons. */
  password: string;
}

/** Digest credentials (RFC 2617 §3.2.2). */
export interface DigestCredentials {
  /** The scheme, as the union's tag. */
  scheme: "Digest";
  /** As the user typed it. */
  username: string;
  /** The challenge's realm. */
  realm: string;
  /** The challenge's nonce. */
  nonce: string;
  /** The digest-uri the client hashed: VLC sends the base URL with a trailing slash, HappyTime without. */
  uri: string;
  /** 32 hex digits: see {@link digestResponse}. */
  response: string;
  /** Echoed from the challenge. */
  algorithm?: string;
  /** Echoed from the challenge. */
  opaque?: string;
  /** `auth` when the challenge offered it. */
  qop?: string;
  /** Nonce count, 8 hex digits; present with qop. */
  nc?: string;
  /** The client's nonce; present with qop or MD5-sess. */
  cnonce?: string;
}

/** What an Authorization field carries. */
export type AuthCredentials = BasicCredentials | DigestCredentials;
