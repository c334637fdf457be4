/** The management API's shapes as the dashboard reads them (see /api/openapi.json). */

export type { MetricsHistoryView, MetricsPoint } from '../metrics-history.js';

export interface ModelVersion {
  id: string;
  name: string;
  version: number;
  sha256: string;
  size: number;
  fileCount: number;
  tags: Record<string, string>;
  properties: Record<string, string>;
  description: string | null;
  aliases: string[];
  createdAt: string;
}

export interface ServiceCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  at: string;
}

export interface ServiceView {
  name: string;
  state: string;
  scoringUri: string;
  swaggerUri: string;
  models: string[];
  computeType: string;
  runtime: string;
  replicas: { desired: number; ready: number };
  authEnabled: boolean;
  port: number;
  createdAt: string;
  updatedAt: string;
  error: string | null;
  generation: number;
  observedGeneration: number;
  lastUpdate: { generation: number; outcome: string; error?: string; at: string } | null;
  conditions: ServiceCondition[];
  restarts: number;
  pid: number | null;
  description: string | null;
  tags: Record<string, string>;
  inferenceConfig: { runtime: string; schema?: { input?: unknown; output?: unknown } } & Record<
    string,
    unknown
  >;
  deploymentConfig: Record<string, unknown>;
}

export interface ServiceKeys {
  primaryKey: string;
  secondaryKey: string;
}

/** A JSON Schema (or OpenAPI schema object) as plain data. */
export type JsonSchema = { [key: string]: unknown };
