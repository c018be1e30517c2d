/**
 * TLS in the fan-out runner: the self-signed certificate the RTMPS and RTSPS
 * servers present and their players trust, and the table of what TLS costs
 * Sluice beside the plain protocol in the same run.
 *
 * @module
 */

import type { Protocol } from "./_players/mod.ts";
import { f0, f1, f2 } from "./_report.ts";
import type { MeasuredRun, RunResult } from "./_runner.ts";

/** The certificate the TLS protocols' servers present and their players trust. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  pem: string;
}

/** Makes a self-signed certificate for 127.0.0.1 with openssl in `dir`. */
export async function makeCert(dir: string): Promise<TlsFiles> {
  const certFile = `${dir}/cert.pem`;
  const keyFile = `${dir}/key.pem`;
  const out = await new Deno.Command("openssl", {
    args: [
      ...["req", "-x509", "-newkey", "ec"],
      ...["-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", keyFile, "-out", certFile, "-days", "2"],
      ...["-subj", "/CN=localhost"],
      ...["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
      ...["-addext", "basicConstraints=critical,CA:FALSE"],
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `Cannot make a certificate: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return { certFile, keyFile, pem: await Deno.readTextFile(certFile) };
}

/** The plain protocol a TLS one is measured against. */
const PLAIN_OF: [tls: Protocol, plain: Protocol][] = [
  ["rtmps", "rtmp"],
  ["rtsps-tcp", "rtsp-tcp"],
  // RTSPS for the requests, SRTP for the media: what SRTP costs over UDP.
  ["rtsp-srtp", "rtsp-udp"],
];

/**
 * Sluice's Mbit per CPU-second, plain against TLS, at each N both ran:
 * what TLS costs per delivered Mbit.
 */
export function tlsCostTable(
  results: Map<Protocol, RunResult[]>,
  ns: number[],
): string | undefined {
  const find = (p: Protocol, n: number) =>
    results.get(p)?.find((r): r is MeasuredRun =>
      r.kind === "sluice" && r.n === n && r.error === undefined
    );
  const rows: string[][] = [];
  for (const [tlsProtocol, plain] of PLAIN_OF) {
    for (const n of ns) {
      const a = find(plain, n);
      const b = find(tlsProtocol, n);
      if (a === undefined || b === undefined) continue;
      rows.push([
        `${plain} / ${tlsProtocol}`,
        String(n),
        `${f1(a.server.cpuPercent)} / ${f1(b.server.cpuPercent)}`,
        `${f0(a.deliveredMbps)} / ${f0(b.deliveredMbps)}`,
        `${f0(a.mbitPerCpuSecond)} / ${f0(b.mbitPerCpuSecond)}`,
        f2(a.mbitPerCpuSecond / b.mbitPerCpuSecond),
      ]);
    }
  }
  if (rows.length === 0) return undefined;
  const head = [
    "plain / TLS",
    "N",
    "CPU %",
    "delivered Mbit/s",
    "Mbit per CPU-s",
    "CPU per Mbit, TLS ÷ plain",
  ];
  return [head, head.map(() => "---"), ...rows].map((r) =>
    `| ${r.join(" | ")} |`
  ).join("\n");
}
