import { stringify } from 'yaml';

/** Options for rendering manifests for people and GitOps tools. */
export interface RenderManifestOptions {
  /** Replace Secret values by a placeholder (for review output that should not leak keys). */
  redactSecrets?: boolean;
}

/**
 * Renders objects as one multi-document YAML stream (`---` between documents), the format
 * `kubectl apply -f` and GitOps tools take.
 */
export function renderManifestYaml(objects: readonly object[], options: RenderManifestOptions = {}): string {
  return objects
    .map((o) => {
      const obj = options.redactSecrets ? redact(o) : o;
      return stringify(obj, { lineWidth: 0, blockQuote: 'literal', aliasDuplicateObjects: false });
    })
    .map((doc) => `---\n${doc}`)
    .join('');
}

function redact(o: object): object {
  const kind = (o as { kind?: string }).kind;
  const data = (o as { stringData?: Record<string, string> }).stringData;
  if (kind !== 'Secret' || !data) return o;
  return { ...o, stringData: Object.fromEntries(Object.keys(data).map((k) => [k, '<redacted>'])) };
}
