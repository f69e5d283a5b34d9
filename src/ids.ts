/** Tenant, wallet and request ids: letters, digits, . _ - (no separator of document or workflow ids). */
export const idPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const invalidIdMessage = (kind: string, value: unknown) =>
  `invalid ${kind} "${String(value)}" (letters, digits, . _ -; 1-128)`;
