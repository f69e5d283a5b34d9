export { ConclaveClient, toConclaveError } from './client/index.js';
export type {
  // what requests take
  ActorKeyInput,
  ActorSecret,
  ApproveOptions,
  BacktestRulesOptions,
  ConnectOptions,
  CreateWalletOptions,
  Curve,
  DeriveKeyOptions,
  PublishGovernanceOptions,
  PublishRulesOptions,
  RecoverOptions,
  RequestRef,
  ReshareOptions,
  RotateOptions,
  RotateWebhookSecretOptions,
  ScheduleRotationOptions,
  SchemeName,
  SetWebhookEnabledOptions,
  SignOptions,
  TenantOption,
  TransactionDescription,
  Verdict,
  WalletRef,
  WalletRequestOptions,
  // what they return
  AuditEntry,
  AuditExport,
  BacktestResult,
  BackupResult,
  DerivedWalletKey,
  FiredRuleSummary,
  GovernanceVersion,
  KeygenResult,
  PairingResult,
  RecoverResult,
  ReshareResult,
  RuleSetVersion,
  SignResult,
  TransactionState,
  ValidateResult,
  WalletInfo,
  WebhookCredentials,
  WebhookDeliveryView,
  WebhookSubscriptionView,
} from './client/index.js';
export { isCurve, isSchemeName, listCurves, listSchemes } from './crypto/schemes.js';
export { ConclaveError, CulpritError } from './errors.js';
export type { BlameCode, ErrorCode } from './errors.js';
export { verifyWebhook, WebhookVerificationError } from './webhooks/signature.js';
export { webhookEventTypes, type WebhookBody, type WebhookEventType } from './webhooks/events.js';
