import { type DeploymentConfig, parseDeploymentConfig } from '../core/config/deployment-config.js';

/**
 * Deployment configs for the local target (the seed's `LocalWebservice.deploy_configuration`).
 *
 * @example
 * ```ts
 * const config = LocalWebservice.deployConfiguration({ port: 8890 });
 * const service = await Model.deploy(ws, 'myservice', [model], inferenceConfig, config);
 * ```
 */
export const LocalWebservice = Object.freeze({
  /**
   * A validated local deployment config; any key of deploymentconfig.json may be given
   * (`port`, `numReplicas`, `authEnabled`, `autoScaler`, `dataCollection`, ...).
   * @throws INVALID_CONFIG naming the bad key
   */
  deployConfiguration(options: Partial<Omit<DeploymentConfig, 'computeType'>> = {}): DeploymentConfig {
    return parseDeploymentConfig({ ...options, computeType: 'local' }, 'LocalWebservice.deployConfiguration');
  },
});
