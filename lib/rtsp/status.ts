/**
 * RTSP methods, status codes and their reason phrases, and the version
 * Sluice writes (RFC 2326 §7.1.1, §10, §11; RFC 7826).
 *
 * @module
 */

/** RTSP methods of RFC 2326 §10 (RFC 7826 §13 adds PLAY_NOTIFY and drops RECORD, ANNOUNCE). */
export const RTSP_METHOD = {
  OPTIONS: "OPTIONS",
  DESCRIBE: "DESCRIBE",
  ANNOUNCE: "ANNOUNCE",
  SETUP: "SETUP",
  PLAY: "PLAY",
  PAUSE: "PAUSE",
  RECORD: "RECORD",
  TEARDOWN: "TEARDOWN",
  GET_PARAMETER: "GET_PARAMETER",
  SET_PARAMETER: "SET_PARAMETER",
  REDIRECT: "REDIRECT",
} as const;

/** One of {@link RTSP_METHOD}. */
export type RtspMethod = typeof RTSP_METHOD[keyof typeof RTSP_METHOD];

/** Status codes of RFC 2326 §7.1.1 that a server sends. */
export const RTSP_STATUS = {
  OK: 200,
  MOVED_PERMANENTLY: 301,
  FOUND: 302,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_ENTITY_TOO_LARGE: 413,
  REQUEST_URI_TOO_LARGE: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PARAMETER_NOT_UNDERSTOOD: 451,
  NOT_ENOUGH_BANDWIDTH: 453,
  SESSION_NOT_FOUND: 454,
  METHOD_NOT_VALID_IN_THIS_STATE: 455,
  HEADER_FIELD_NOT_VALID: 456,
  INVALID_RANGE: 457,
  AGGREGATE_OPERATION_NOT_ALLOWED: 459,
  ONLY_AGGREGATE_OPERATION_ALLOWED: 460,
  UNSUPPORTED_TRANSPORT: 461,
  DESTINATION_UNREACHABLE: 462,
  INTERNAL_SERVER_ERROR: 500,
  NOT_IMPLEMENTED: 501,
  SERVICE_UNAVAILABLE: 503,
  VERSION_NOT_SUPPORTED: 505,
  OPTION_NOT_SUPPORTED: 551,
} as const;

/** Reason phrases of RFC 2326 §7.1.1, for {@link encodeResponse}. */
export const RTSP_STATUS_TEXT: Readonly<Record<number, string>> = {
  100: "Continue",
  200: "OK",
  201: "Created",
  250: "Low on Storage Space",
  300: "Multiple Choices",
  301: "Moved Permanently",
  302: "Moved Temporarily",
  303: "See Other",
  304: "Not Modified",
  305: "Use Proxy",
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  407: "Proxy Authentication Required",
  408: "Request Time-out",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Request Entity Too Large",
  414: "Request-URI Too Large",
  415: "Unsupported Media Type",
  451: "Parameter Not Understood",
  452: "Conference Not Found",
  453: "Not Enough Bandwidth",
  454: "Session Not Found",
  455: "Method Not Valid in This State",
  456: "Header Field Not Valid for Resource",
  457: "Invalid Range",
  458: "Parameter Is Read-Only",
  459: "Aggregate operation not allowed",
  460: "Only aggregate operation allowed",
  461: "Unsupported transport",
  462: "Destination unreachable",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Time-out",
  505: "RTSP Version not supported",
  551: "Option not supported",
};

/** The version Sluice writes (RFC 2326 §3.1). */
export const RTSP_VERSION = "RTSP/1.0";
