// struct sockaddr_in / sockaddr_in6 as bytes, for the SQEs of bind, connect
// and accept. Text forms follow Node's: IPv6 lower case with the longest run
// of zero groups compressed, IPv4-mapped addresses as ::ffff:a.b.c.d.
import { isIPv4, isIPv6 } from 'node:net';
import { AF_INET, AF_INET6 } from '../constants';
import { invalidArgValue } from '../errors';
import { validateInteger } from '../validators';

/** Size of struct sockaddr_in6, the largest IP address uring/net handles. */
export const SOCKADDR_MAX = 28;
/** Size of struct sockaddr_un (a Unix domain socket's path, up to 107 bytes and a NUL). */
export const SOCKADDR_UN_MAX = 110;
/** AF_UNIX. */
export const AF_UNIX = 1;

/** An address as Node reports one (`server.address()`, `socket.address()`). */
export interface AddressInfo {
  /** IP address in text form. */
  address: string;
  /** Address family. */
  family: 'IPv4' | 'IPv6';
  /** Port number. */
  port: number;
}

function parseIPv4(text: string, out: Uint8Array, at: number): void {
  const parts = text.split('.');
  for (let k = 0; k < 4; k++) out[at + k] = Number(parts[k]);
}

function parseIPv6(text: string, out: Uint8Array, at: number): void {
  let s = text;
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  const groups: number[] = [];
  const parse = (part: string): number[] => {
    if (part === '') return [];
    const g: number[] = [];
    for (const p of part.split(':')) {
      if (p.includes('.')) {
        const b = new Uint8Array(4);
        parseIPv4(p, b, 0);
        g.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
      } else {
        g.push(parseInt(p, 16));
      }
    }
    return g;
  };
  const dbl = s.indexOf('::');
  if (dbl >= 0) {
    const head = parse(s.slice(0, dbl));
    const tail = parse(s.slice(dbl + 2));
    groups.push(...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail);
  } else {
    groups.push(...parse(s));
  }
  for (let k = 0; k < 8; k++) {
    out[at + 2 * k] = groups[k]! >> 8;
    out[at + 2 * k + 1] = groups[k]! & 0xff;
  }
}

/**
 * Encodes an IP literal and port as a sockaddr. Throws ERR_INVALID_ARG_VALUE
 * for anything but an IPv4 or IPv6 literal, ERR_OUT_OF_RANGE for a bad port.
 */
export function encodeSockaddr(host: string, port: number): Uint8Array {
  validateInteger(port, 'port', 0, 65535);
  if (isIPv4(host)) {
    const b = new Uint8Array(16);
    b[0] = AF_INET; // sa_family, little-endian u16
    b[2] = port >> 8; // sin_port, network order
    b[3] = port & 0xff;
    parseIPv4(host, b, 4);
    return b;
  }
  if (isIPv6(host)) {
    const b = new Uint8Array(SOCKADDR_MAX);
    b[0] = AF_INET6;
    b[2] = port >> 8;
    b[3] = port & 0xff;
    parseIPv6(host, b, 8); // after sin6_flowinfo; sin6_scope_id stays 0
    return b;
  }
  throw invalidArgValue('host', host, 'must be an IPv4 or IPv6 address');
}

function formatIPv6(b: Uint8Array, at: number): string {
  const g: number[] = [];
  for (let k = 0; k < 8; k++) g.push((b[at + 2 * k]! << 8) | b[at + 2 * k + 1]!);
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${b[at + 12]}.${b[at + 13]}.${b[at + 14]}.${b[at + 15]}`;
  }
  let best = -1;
  let bestLen = 1; // a single zero group is not compressed
  for (let k = 0; k < 8;) {
    if (g[k] !== 0) { k++; continue; }
    let e = k;
    while (e < 8 && g[e] === 0) e++;
    if (e - k > bestLen) { best = k; bestLen = e - k; }
    k = e;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** Decodes a sockaddr the kernel wrote; undefined for a family other than IPv4/IPv6. */
export function decodeSockaddr(b: Uint8Array, len = b.byteLength): AddressInfo | undefined {
  if (len < 2) return undefined;
  const family = b[0]! | (b[1]! << 8);
  const port = (b[2]! << 8) | b[3]!;
  if (family === AF_INET && len >= 8) {
    return { address: `${b[4]}.${b[5]}.${b[6]}.${b[7]}`, family: 'IPv4', port };
  }
  if (family === AF_INET6 && len >= 24) {
    return { address: formatIPv6(b, 8), family: 'IPv6', port };
  }
  return undefined;
}

/** The address family of a sockaddr (AF_INET or AF_INET6). */
export function sockaddrFamily(b: Uint8Array): number {
  return b[0]! | (b[1]! << 8);
}

/**
 * Encodes a Unix domain socket path as a sockaddr_un. A path starting with
 * '\0' names the abstract namespace (no file), as in node:net. Throws
 * ERR_INVALID_ARG_VALUE for a path too long for sun_path.
 */
export function encodeUnixSockaddr(path: string): Uint8Array {
  const bytes = Buffer.from(path, 'utf8');
  const abstract = bytes.length > 0 && bytes[0] === 0;
  if (bytes.length === 0 || bytes.length > SOCKADDR_UN_MAX - 2 - (abstract ? 0 : 1)) {
    throw invalidArgValue('path', path, `must be 1 to ${SOCKADDR_UN_MAX - 3} bytes`);
  }
  const b = new Uint8Array(2 + bytes.length + (abstract ? 0 : 1));
  b[0] = AF_UNIX;
  b.set(bytes, 2);
  return b;
}

/** The path of a sockaddr_un the kernel wrote ('' for an unnamed socket). */
export function decodeUnixPath(b: Uint8Array, len: number): string {
  if (len <= 2 || (b[0]! | (b[1]! << 8)) !== AF_UNIX) return '';
  let end = len;
  if (b[2] !== 0) { end = b.indexOf(0, 2); if (end < 0 || end > len) end = len; }
  return Buffer.from(b.buffer, b.byteOffset + 2, end - 2).toString('utf8');
}
