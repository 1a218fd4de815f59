/** Metrics and logs of an IKS gateway or updater (issue 6). */
export { IksMetrics, type LookupDocument, type LookupOutcome, type QueueSource } from './metrics';
export { createLogger, nameHash, redactPath, requestLogging } from './logging';
export { startMetricsServer, type MetricsServer } from './metrics-server';
export { aggregateWorkerMetrics, serveWorkerMetrics } from './cluster-metrics';
