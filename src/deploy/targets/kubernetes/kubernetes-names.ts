import { BerthError } from '../../../core/errors.js';

/** DNS-1035 label: what Kubernetes accepts as a Service name (and so for every object of a service). */
export const KUBERNETES_NAME_PATTERN = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Label every object Berth creates carries; `delete` selects on it and on SERVICE_LABEL. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'berth';
export const SERVICE_LABEL = 'berth.dev/service';
/** Field manager of every server-side apply. */
export const FIELD_MANAGER = 'berth';

/**
 * Checks that a service name is usable as the name of its Kubernetes objects.
 * @throws INVALID_NAME naming the rule and a suggestion.
 */
export function assertKubernetesName(name: string, what = 'service name'): void {
  if (KUBERNETES_NAME_PATTERN.test(name)) return;
  const suggestion =
    name
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^[^a-z]+/, '')
      .slice(0, 63)
      .replace(/-+$/, '') || 'my-service';
  throw new BerthError(
    'INVALID_NAME',
    `Invalid ${what} "${name}" for Kubernetes: use at most 63 lowercase letters, digits and "-", starting with a letter and ending with a letter or digit.`,
    { hint: `Deploy under a Kubernetes-compatible name, e.g. "${suggestion}".` },
  );
}

/** Labels that mark an object as Berth's, for one service. */
export function ownerLabels(service: string): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGED_BY, [SERVICE_LABEL]: service };
}

/** The label selector matching exactly the objects Berth created for `service`. */
export function ownerSelector(service: string): string {
  return `${MANAGED_BY_LABEL}=${MANAGED_BY},${SERVICE_LABEL}=${service}`;
}

/** Names of a service's objects. */
export function objectNames(service: string): {
  deployment: string;
  service: string;
  hpa: string;
  configMap: string;
  secret: string;
} {
  return {
    deployment: service,
    service,
    hpa: service,
    configMap: `${service}-config`,
    secret: `${service}-keys`,
  };
}
