import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfig, ConfigError, DEFAULT_PORT } from "../../server/config";

test("listens on loopback by default and refuses to be exposed without a token", () => {
  const cfg = loadConfig({});
  assert.equal(cfg.host, "127.0.0.1");
  assert.equal(cfg.port, DEFAULT_PORT);
  assert.throws(() => loadConfig({ HOST: "0.0.0.0" }), (e: unknown) => e instanceof ConfigError && /FLOWSCOPE_TOKEN/.test(e.message));
  assert.equal(loadConfig({ HOST: "0.0.0.0", FLOWSCOPE_TOKEN: "t" }).token, "t");
  assert.equal(loadConfig({ HOST: "0.0.0.0", FLOWSCOPE_ALLOW_NO_TOKEN: "1" }).host, "0.0.0.0");
  assert.throws(() => loadConfig({ PORT: "http" }), /PORT=http/);
});
