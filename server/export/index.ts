export { ndjsonLines } from "./ndjson";
export { BundleAbandoned, writeBundle } from "./bundle";
export { verifyBundle } from "./verify-bundle";
export type { BundleInput, BundleManifest } from "./bundle";
export type { VerifyResult } from "./verify-bundle";
