export { ndjsonLines } from "./ndjson";
export { BundleAbandoned, writeBundle, verifyBundle } from "./bundle";
export type { BundleInput, BundleManifest, VerifyResult } from "./bundle";
