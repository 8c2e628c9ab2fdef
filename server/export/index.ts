export { ndjsonLines } from "./ndjson";
export { writeBundle, verifyBundle } from "./bundle";
export type { BundleInput, BundleManifest, VerifyResult } from "./bundle";
