// Failure messages and stack traces go through the payload codec too: Temporal stores them in
// the clear otherwise, and a policy refusal names destinations and amounts. Workers load this
// file by path (`failureConverterPath`: into the workflow bundle and with require), so it is
// CommonJS; clients build the same converter in src/codec/payload-codec.ts.
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
