// A Cilium proxy sends on a client's behalf from a node address: the ingress L7 proxy's own connection to
// the server, or the DNS proxy's query. Such a packet carries the client's security identity but an
// address that is no pod's, so Hubble names no pod or namespace for its source, and Cilium takes no
// policy verdict for it (the proxy decided already, on the request's L7 record). The details panel
// says so, rather than leave "no policy decision" unexplained.
import type { Flow } from "../flow/types";
import { isClusterIdentity } from "../flow/map-node";

const TRACE = 4;

/** Whether `f` is a trace of a packet a proxy sent to a pod under a client's identity from a non-pod address. */
export function isProxySentOnBehalf(f: Flow): boolean {
  if (f.event_type?.type !== TRACE || f.is_reply === true || f.trace_observation_point !== "TO_ENDPOINT") return false;
  const src = f.source;
  const id = src?.identity;
  if (src === undefined || id === undefined || !isClusterIdentity(id)) return false;
  return !src.pod_name && !src.namespace && Boolean(f.destination?.pod_name);
}
