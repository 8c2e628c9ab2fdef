import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfig, ConfigError, DEFAULT_PORT } from "../../server/config";

test("listens on loopback by default and refuses to be exposed without a token", () => {
  const cfg = loadConfig({});
  assert.equal(cfg.host, "127.0.0.1");
  assert.equal(cfg.port, DEFAULT_PORT);
  assert.throws(() => loadConfig({ HOST: "0.0.0.0" }), (e: unknown) => e instanceof ConfigError && /FLOWSCOPE_TOKEN/.test(e.message));
  assert.equal(loadConfig({ HOST: "0.0.0.0", FLOWSCOPE_TOKEN: "t0ken-abc" }).token, "t0ken-abc");
  // a secret file's trailing newline is not part of the token (no header could carry it)
  assert.equal(loadConfig({ HOST: "0.0.0.0", FLOWSCOPE_TOKEN: "t0ken-abc\n" }).token, "t0ken-abc");
  for (const bad of [" ", "\n", "short"]) {
    assert.throws(() => loadConfig({ HOST: "0.0.0.0", FLOWSCOPE_TOKEN: bad }), (e: unknown) => e instanceof ConfigError && /FLOWSCOPE_TOKEN: .*at least 8 characters/.test(e.message), JSON.stringify(bad));
  }
  assert.equal(loadConfig({ HOST: "0.0.0.0", FLOWSCOPE_ALLOW_NO_TOKEN: "1" }).host, "0.0.0.0");
  assert.throws(() => loadConfig({ PORT: "http" }), /PORT=http/);
  // a port, a count or a budget is whole; a rate or an age need not be
  assert.throws(() => loadConfig({ PORT: "4393.5" }), (e: unknown) => e instanceof ConfigError && /PORT=4393\.5: expected a whole number/.test(e.message));
  assert.throws(() => loadConfig({ FLOWSCOPE_RETENTION_FLOWS: "1500.5" }), /expected a whole number/);
  assert.equal(loadConfig({ FLOWSCOPE_RATE: "0.5" }).rate, 0.5);
});

test("FLOWSCOPE_STREAM_MAX_CLIENTS is checked with the other settings: a clear message, no stack trace", () => {
  assert.equal(loadConfig({ FLOWSCOPE_STREAM_MAX_CLIENTS: "8" }).streamMaxClients, 8);
  assert.equal(loadConfig({}).streamMaxClients, undefined);
  for (const bad of ["abc", "0", "2.5", "100001"]) {
    assert.throws(() => loadConfig({ FLOWSCOPE_STREAM_MAX_CLIENTS: bad }), (e: unknown) => e instanceof ConfigError && e.message.startsWith(`FLOWSCOPE_STREAM_MAX_CLIENTS=${bad}:`), bad);
  }
});

test("FLOWSCOPE_SCAN_MS sets how long a page searches row by row, from 1 to 10000 ms", () => {
  assert.equal(loadConfig({ FLOWSCOPE_SCAN_MS: "1000" }).scanMs, 1000);
  assert.equal(loadConfig({}).scanMs, undefined);
  for (const bad of ["abc", "0", "-5", "10001"]) {
    assert.throws(() => loadConfig({ FLOWSCOPE_SCAN_MS: bad }), (e: unknown) => e instanceof ConfigError && e.message.startsWith(`FLOWSCOPE_SCAN_MS=${bad}:`), bad);
  }
});
