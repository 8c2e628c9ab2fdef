// Public API of the datapath for the server, the simulator and the CLIs.
export { Datapath, RequestError } from "./datapath";
export type { TraceResult, SideResult, PolicyInfo, PolicyChange, DatapathOptions, EndpointInfo } from "./datapath";
export type { PolicyWarning } from "./policy/types";
export { previewPolicyChange, requestLabel } from "./preview";
export type { Scenario, TrafficEntry, TrafficRequest } from "../scenario/types";
export { ScenarioError } from "../scenario/types";
export { loadScenarioFile, parseScenario, parseRequestsFile } from "../scenario/load";
export type { FqdnCacheEntry } from "./fqdn-cache";
export type { IpcacheEntry } from "./ipcache";
export { endpointsView, policyMapView, identitiesView, identityView, ipcacheView, selectorsView, findEndpoint, InspectError } from "./inspect";
export type { ConntrackEntry, ConntrackOptions } from "./conntrack";
export type { PolicyCounters, DirectionCounters } from "./counters";
