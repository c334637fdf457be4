/**
 * What the dashboard reads of a service to reach it: a structural subset of the control plane's
 * service view, so `src/ui` needs no import from `src/deploy` (layers: ui imports only core).
 */
export interface DashboardServiceTarget {
  name: string;
  state: string;
  scoringUri: string;
  swaggerUri: string;
  authEnabled: boolean;
  deploymentConfig: { scoringTimeoutMs?: number };
}

/** The service operations the dashboard's routes need; the control plane implements them. */
export interface DashboardServices {
  /** @throws SERVICE_NOT_FOUND */
  get(name: string): DashboardServiceTarget;
  /** @throws SERVICE_NOT_FOUND */
  keys(name: string): { primaryKey: string; secondaryKey: string };
}
