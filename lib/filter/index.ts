// Public surface of the filter model. Everything here runs in the browser and in Node.
export * from "./types";
export { compileQuery, compileFilter, matchFlow, FILTER_FIELDS, parseNamespacedName, parseHttpStatus } from "./match";
export { fromSearchParams, toSearchParams, NON_FILTER_PARAMS } from "./parse-params";
export { parseObserveArgs } from "./parse-cli";
export { parseUiFilter, parseUiEntry, formatUiEntry, uiEntriesToFilters, uiViewToQuery } from "./parse-ui";
export type { UiFilterEntry, UiKind, UiDirection, UiView } from "./parse-ui";
export { decidingPolicies, policyRef, parsePolicyPattern } from "./policy";
export { compileSafeRegExp } from "./regex";
export { compileLabelSelector, parseLabelSelector } from "./labels";
export { parseTimeArg, timestampMs, parseDuration } from "./time";
export { parseEventType, formatEventType } from "./event-type";
export { canonicalJson } from "./builder";
