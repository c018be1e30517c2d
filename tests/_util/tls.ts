/**
 * A self-signed certificate for the TLS tests, made with `openssl` at run
 * time in a temporary directory (removed when the test process ends): an
 * ECDSA P-256 key, valid for two days, for `127.0.0.1` and `localhost`.
 *
 * It is not marked as a CA (`basicConstraints=CA:FALSE`), so Sluice's own
 * clients can trust it directly (`caCerts: [cert.pem]`, rustls refuses a CA
 * certificate as a server's own); ffmpeg does not verify by default and
 * GStreamer is told `tls-validation-flags=0`.
 */
import { toolPath } from "./tools.ts";

/** A certificate and its key, as files and as PEM text. */
export interface TestCert {
  certFile: string;
  keyFile: string;
  /** The certificate, PEM. */
  pem: string;
}

let made: TestCert | undefined;

/** The process's self-signed certificate, made on first use. */
export function testCert(): TestCert {
  if (made !== undefined) return made;
  const dir = Deno.makeTempDirSync({ prefix: "sluice-tls-" });
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // already gone
    }
  });
  const certFile = `${dir}/cert.pem`;
  const keyFile = `${dir}/key.pem`;
  const out = new Deno.Command(toolPath("openssl"), {
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
  }).outputSync();
  if (!out.success) {
    throw new Error(
      `Cannot make a test certificate: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  made = { certFile, keyFile, pem: Deno.readTextFileSync(certFile) };
  return made;
}

/** Config keys that turn RTSPS and RTMPS on with {@link testCert}. */
export function tlsConfig(): { tlsCert: string; tlsKey: string } {
  const c = testCert();
  return { tlsCert: c.certFile, tlsKey: c.keyFile };
}
