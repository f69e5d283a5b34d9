export { backupWorkflow } from './backup.js';
export { keygenWorkflow } from './keygen.js';
export { noncePoolWorkflow } from './nonce-pool.js';
export { pairingWorkflow } from './pairing.js';
export { recoverWorkflow } from './recover.js';
export { reshareWorkflow } from './reshare.js';
export { signWorkflow, getWalletWorkflow } from './sign.js';
export { validateWorkflow } from './validate.js';
export { auditChainWorkflow, auditLogWorkflow } from './audit.js';
export {
  backtestRulesWorkflow,
  publishRulesWorkflow,
  ruleSetWorkflow,
  rulesHistoryWorkflow,
} from './rules.js';
export { replayWebhooksWorkflow, webhookAdminWorkflow, webhookDeliveryWorkflow } from './webhooks.js';
export { governanceHistoryWorkflow, publishGovernanceWorkflow } from './governance.js';
