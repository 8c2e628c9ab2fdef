// Worker threads do not inherit tsx's loader from the main thread, so a worker starts here: register
// tsx, then load the TypeScript entry named in workerData.entry.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
