export { ConclaveClient, toConclaveError } from './client/index.js';
export type {
  CreateWalletOptions,
  SignOptions,
  KeygenResult,
  SignResult,
  WalletInfo,
} from './client/index.js';
export { ConclaveError, CulpritError } from './errors.js';
export type { ErrorCode } from './errors.js';
export { verifyWebhook, WebhookVerificationError } from './webhooks/signature.js';
export { webhookEventTypes, type WebhookBody, type WebhookEventType } from './webhooks/events.js';
