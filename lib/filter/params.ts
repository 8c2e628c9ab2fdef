// The name the server routes import; the implementation and the parameter reference are parse-params.ts.
export { fromSearchParams as parseSearchParams, fromSearchParams, toSearchParams, NON_FILTER_PARAMS, badlyEncodedParam } from "./parse-params";
export type { ParseParamsOptions, ParamsInput } from "./parse-params";
