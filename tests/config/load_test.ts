import assert from "node:assert/strict";
import {
  ConfigError,
  envName,
  flagName,
  loadConfig,
  type LoadConfigOptions,
  settingDefault,
  type SettingKey,
  SETTINGS,
  usage,
  wantsHelp,
} from "../../lib/config/mod.ts";

/** A `readTextFile` over an in-memory folder; missing names reject as Deno does. */
function files(
  contents: Record<string, string>,
): LoadConfigOptions["readTextFile"] {
  return (path) =>
    path in contents
      ? Promise.resolve(contents[path]!)
      : Promise.reject(new Deno.errors.NotFound(`No such file: ${path}`));
}

/** The problems loadConfig reports. */
async function problemsOf(
  options: LoadConfigOptions,
): Promise<readonly string[]> {
  try {
    await loadConfig(options);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
    return error.problems;
  }
  assert.fail("loadConfig accepted the input");
}

const YAML = `
# what a user writes
logLevel: warn
readTimeout: 20s
rtmpAddress: 127.0.0.1:1940
rtmpChunkSize: 8192
paths:
  live/cam1:
    overridePublisher: false
  live/open:
`;

Deno.test("loadConfig uses the defaults with no file, env or flags", async () => {
  const config = await loadConfig({ args: [], env: {} });
  assert.equal(config.rtmpAddress, ":1935");
  assert.equal(config.readTimeout, 10_000);
  assert.deepEqual(config.paths, {});
});

Deno.test("loadConfig reads a YAML file named by --config", async () => {
  const config = await loadConfig({
    args: ["--config", "sluice.yml"],
    env: {},
    readTextFile: files({ "sluice.yml": YAML }),
  });
  assert.equal(config.logLevel, "warn");
  assert.equal(config.readTimeout, 20_000);
  assert.equal(config.rtmpAddress, "127.0.0.1:1940");
  assert.equal(config.rtmpChunkSize, 8192);
  assert.equal(config.writeTimeout, 10_000); // untouched keys keep their defaults
  assert.deepEqual(config.paths, {
    "live/cam1": { overridePublisher: false },
    "live/open": {},
  });
});

Deno.test("loadConfig reads a JSON file named by SLUICE_CONFIG", async () => {
  const config = await loadConfig({
    args: [],
    env: { SLUICE_CONFIG: "/etc/sluice.json" },
    readTextFile: files({
      "/etc/sluice.json": '{ "writeQueueSize": "1MiB", "gopCache": false }',
    }),
  });
  assert.equal(config.writeQueueSize, 1024 * 1024);
  assert.equal(config.gopCache, false);
});

Deno.test("loadConfig prefers --config over SLUICE_CONFIG", async () => {
  const config = await loadConfig({
    args: ["--config=b.yaml"],
    env: { SLUICE_CONFIG: "a.yaml" },
    readTextFile: files({
      "a.yaml": "logLevel: error",
      "b.yaml": "logLevel: debug",
    }),
  });
  assert.equal(config.logLevel, "debug");
});

Deno.test("loadConfig layers defaults < file < env < flags", async () => {
  const readTextFile = files({
    "s.yml":
      "logLevel: warn\nrtmpAddress: ':1000'\nreadTimeout: 1s\nrtmpChunkSize: 256",
  });
  const config = await loadConfig({
    args: ["--config", "s.yml", "--rtmp-address", ":3000", "--log-level=debug"],
    env: {
      SLUICE_RTMPADDRESS: ":2000",
      SLUICE_READTIMEOUT: "2s",
      SLUICE_LOGLEVEL: "error",
    },
    readTextFile,
  });
  assert.equal(config.rtmpAddress, ":3000"); // flag beats env and file
  assert.equal(config.logLevel, "debug"); // flag beats env and file
  assert.equal(config.readTimeout, 2000); // env beats file
  assert.equal(config.rtmpChunkSize, 256); // file beats default
  assert.equal(config.writeTimeout, 10_000); // default
});

Deno.test("loadConfig reads boolean flags bare, with =, or followed by true/false", async () => {
  const config = await loadConfig({
    args: [
      "--gop-cache=false",
      "--override-publisher",
      "false",
      "--rtmp",
      "--log-level",
      "warn",
    ],
  });
  assert.equal(config.gopCache, false);
  assert.equal(config.overridePublisher, false);
  assert.equal(config.rtmp, true);
  assert.equal(config.logLevel, "warn");
});

Deno.test("loadConfig ignores empty and foreign environment variables", async () => {
  const config = await loadConfig({
    env: {
      SLUICE_LOGLEVEL: "",
      HOME: "/root",
      PATH: "/usr/bin",
      SLUICE_CONFIG: "",
    },
  });
  assert.equal(config.logLevel, "info");
});

Deno.test("loadConfig names the source of a wrong value", async () => {
  const problems = await problemsOf({
    args: ["--config", "s.yml", "--rtmp-address", "nope"],
    env: { SLUICE_READTIMEOUT: "soon" },
    readTextFile: files({ "s.yml": "rtmpChunkSize: 1" }),
  });
  assert.deepEqual(problems, [
    'Invalid config readTimeout "soon": expected a duration such as "10s", "500ms", "2m" or a number of milliseconds (from SLUICE_READTIMEOUT)',
    'Invalid config rtmpAddress "nope": expected host:port (from --rtmp-address)',
    "Invalid config rtmpChunkSize 1: expected an integer from 128 to 65536 (from s.yml)",
  ]);
});

Deno.test("loadConfig reports unknown flags, variables and arguments together", async () => {
  const problems = await problemsOf({
    args: ["--rtmp-adress", ":1", "stray", "--frobnicate=1", "--read-timeout"],
    env: { SLUICE_RTMPADRESS: ":1" },
  });
  assert.deepEqual(problems, [
    "Invalid flag --rtmp-adress: unknown, did you mean --rtmp-address?",
    'Invalid argument "stray": expected --<key> <value>',
    "Invalid flag --frobnicate: unknown",
    "Invalid flag --read-timeout: expected a value after it",
    "Invalid environment variable SLUICE_RTMPADRESS: unknown, did you mean SLUICE_RTMPADDRESS?",
  ]);
});

Deno.test("loadConfig rejects a flag whose value is missing before the next flag", async () => {
  const problems = await problemsOf({
    args: ["--rtmp-address", "--log-level", "debug"],
  });
  assert.deepEqual(problems, [
    "Invalid flag --rtmp-address: expected a value after it",
  ]);
});

Deno.test("loadConfig does not read paths from flags or env", async () => {
  const problems = await problemsOf({
    args: ["--paths", "{}"],
    env: { SLUICE_PATHS: "{}" },
  });
  assert.equal(problems.length, 2);
});

const FILE_ERRORS: {
  name: string;
  path: string;
  text?: string;
  problem: RegExp;
}[] = [
  {
    name: "a missing file",
    path: "gone.yml",
    problem: /^Cannot read config file "gone.yml": not found$/,
  },
  {
    name: "an unknown extension",
    path: "s.toml",
    text: "",
    problem:
      /^Cannot read config file "s.toml": expected a .yml, .yaml or .json file$/,
  },
  {
    name: "broken YAML",
    path: "s.yml",
    text: "logLevel: [warn\n",
    problem: /^Cannot parse config file "s.yml": \S.*$/,
  },
  {
    name: "duplicate YAML keys",
    path: "s.yml",
    text: "logLevel: warn\nlogLevel: info\n",
    problem: /^Cannot parse config file "s.yml": .*unique.*$/i,
  },
  {
    name: "broken JSON",
    path: "s.json",
    text: '{ "logLevel": ',
    problem: /^Cannot parse config file "s.json": \S.*$/,
  },
  {
    name: "a YAML list",
    path: "s.yaml",
    text: "- logLevel\n",
    problem:
      /^Cannot parse config file "s.yaml": expected a mapping of keys to values$/,
  },
  {
    name: "an unknown key in the file",
    path: "s.yml",
    text: "rtmpAdress: ':1935'\n",
    problem:
      /^Invalid config rtmpAdress: unknown key, did you mean rtmpAddress\? \(from s.yml\)$/,
  },
];
for (const c of FILE_ERRORS) {
  Deno.test(`loadConfig reports ${c.name}`, async () => {
    const contents: Record<string, string> = c.text === undefined
      ? {}
      : { [c.path]: c.text };
    const problems = await problemsOf({
      args: ["--config", c.path],
      readTextFile: files(contents),
    });
    assert.equal(problems.length, 1, problems.join("\n"));
    assert.match(problems[0]!, c.problem);
  });
}

Deno.test("loadConfig accepts an empty file", async () => {
  const config = await loadConfig({
    args: ["--config", "empty.yml"],
    readTextFile: files({ "empty.yml": "# nothing yet\n" }),
  });
  assert.equal(config.logLevel, "info");
});

Deno.test("loadConfig reads a real file with Deno.readTextFile", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice_config_" });
  try {
    await Deno.writeTextFile(`${dir}/sluice.yaml`, "playWaitTimeout: 250ms\n");
    const config = await loadConfig({
      args: ["--config", `${dir}/sluice.yaml`],
    });
    assert.equal(config.playWaitTimeout, 250);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("flagName and envName follow the key", () => {
  assert.equal(flagName("rtmpMaxMessageSize"), "rtmp-max-message-size");
  assert.equal(envName("rtmpMaxMessageSize"), "SLUICE_RTMPMAXMESSAGESIZE");
  assert.equal(flagName("rtmp"), "rtmp");
});

Deno.test("usage lists every flag with its default", () => {
  const text = usage();
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const line = text.split("\n").find((l) =>
      l.trimStart().startsWith(`--${flagName(key)} `)
    );
    assert.ok(line, `no line for --${flagName(key)}`);
    assert.ok(line.includes(`default ${settingDefault(key)}`), line);
    assert.ok(line.includes(envName(key)), line);
  }
  assert.match(text, /--config <file>/);
  assert.match(text, /--rtmp-address <value> +.*default :1935/);
});

Deno.test("wantsHelp spots --help and -h; loadConfig accepts them", async () => {
  assert.equal(wantsHelp(["--log-level", "debug", "--help"]), true);
  assert.equal(wantsHelp(["-h"]), true);
  assert.equal(wantsHelp(["--log-level", "debug"]), false);
  assert.equal((await loadConfig({ args: ["--help"] })).logLevel, "info");
});
