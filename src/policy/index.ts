/** Policy engine: decides whether a transaction may be signed. See engine.ts. */
export * from './types.js';
export { combineDecision, fallbackApprovals } from './decision.js';
export {
  addDecimal,
  compareDecimal,
  formatDecimal,
  isDecimalString,
  mulDecimal,
  parseDecimal,
} from './decimal.js';
export type { Decimal } from './decimal.js';
export { evaluatePolicy, parseRuleSet, policyVocabulary, validateRuleSet } from './engine.js';
export type { EvaluateOptions } from './engine.js';
export { builtinOperators } from './vocabulary.js';
export {
  checkTransactionDescription,
  parseInstant,
  transactionFacts,
  validateTransaction,
} from './transaction.js';
export type { DescribedRequest } from './transaction.js';
export type { RuleSetError, RuleSetValidation } from './validate.js';
export { defaultTenantPolicyConfig, parseTenantPolicyConfig } from './tenant-config.js';
export * from './authorization.js';
export { checkSignAuthorization, clockSkewMs, transactionOf } from './gate.js';
export type { GateTarget, SignAuthorization } from './gate.js';
export * from './governance.js';
