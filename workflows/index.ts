export { keygenWorkflow } from './keygen.js';
export { reshareWorkflow } from './reshare.js';
export { signWorkflow, getWalletWorkflow } from './sign.js';
