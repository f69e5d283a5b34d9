export { keygenWorkflow } from './keygen.js';
export { signWorkflow, getWalletWorkflow } from './sign.js';
